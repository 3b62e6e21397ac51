"""``livingmeta review serve``: the review workspace in a browser, on 127.0.0.1.

Why bound to localhost by default: the app writes the review's files in the name of the
reviewer who started it. Serving on another address needs ``--host`` and a shared token
(``--token``, or one generated and printed), which every request must carry.
"""

from __future__ import annotations

import argparse
import sys

from livingmeta.app.guard import new_secret
from livingmeta.cli import add_review_options

HELP = "work on a review in the browser (screening, conflicts, extraction, risk of bias)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta review``."""
    parser.description = "The review workspace: `livingmeta review serve` starts it."
    parser.set_defaults(handler=run)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = actions.add_parser("serve", help="start the review workspace on 127.0.0.1")
    serve.description = (
        "Start the review workspace for one review: screen records, settle conflicts, "
        "extract and approve data and assess risk of bias in the browser. Every change is "
        "written at once to the review's own files, in the reviewer's name. Without "
        "--review, a config with several reviews gets a review picker."
    )
    add_review_options(serve, reviewer="your name, on the review's roster")
    serve.add_argument("--port", type=int, default=8765, help="(default 8765; 0 picks one)")
    serve.add_argument(
        "--highlight", action="append", default=[], metavar="WORD",
        help="highlight WORD in titles and abstracts (repeat for more words)",
    )  # fmt: skip
    serve.add_argument(
        "--host", default="127.0.0.1",
        help="address to bind (anything but localhost needs --allow-remote and a token)",
    )  # fmt: skip
    serve.add_argument(
        "--risk-of-bias-tool", metavar="TOOL",
        help="tool rating every study (rob2, robins_i, nos_cohort, nos_case_control) when "
        "the review's config has no risk_of_bias entry",
    )  # fmt: skip
    serve.add_argument("--allow-remote", action="store_true", help="allow a non-local --host")
    serve.add_argument("--token", help="shared token for a non-local --host (default: random)")
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from werkzeug.serving import make_server

    from livingmeta.app import LOCAL_HOSTS, create_app
    from livingmeta.app.portfolio import create_portfolio_app, open_portfolio
    from livingmeta.app.workspace import open_workspace

    local = args.host in LOCAL_HOSTS
    if not local and not args.allow_remote:
        raise ValueError(f"--host {args.host} is not localhost: add --allow-remote to serve it")
    token = None if local else (args.token or new_secret())
    tools = {"tools": [{"tool": args.risk_of_bias_tool}]} if args.risk_of_bias_tool else None
    options = {"highlight": args.highlight, "token": token, "risk_of_bias": tools}
    hosts = None if local else {*LOCAL_HOSTS, args.host}
    entries = open_portfolio(args.config, args.reviewer, **options) if not args.review else []
    if len(entries) > 1:  # several reviews and none chosen: the review picker
        app, what = create_portfolio_app(entries, args.reviewer, hosts=hosts), "every review"
    else:
        ws = open_workspace(args.config, args.review, args.reviewer, **options)
        app, what = create_app(ws, hosts=hosts), f"{ws.review.id} as {ws.reviewer}"
    server = make_server(args.host, args.port, app, threaded=True)
    address = f"http://{args.host}:{server.server_port}/"
    if token:
        address += f"?token={token}"
    print(f"Review workspace for {what}: {address}", file=sys.stderr)
    print("Press Ctrl-C to stop.", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
