"""A local fake of the E-utilities and ClinicalTrials.gov v2 endpoints for offline tests.

Why a real socket rather than a mocked ``requests.Session``: the behaviours worth testing
(read timeouts, a body cut short of its ``Content-Length``, ``Retry-After`` headers, form
POSTs) live in the HTTP stack itself, and only a real server exercises them. The server
binds ``127.0.0.1`` on a free port, answers from in-memory data the test provides, and
records every request so tests can assert counts, parameters and that secrets did not leak.

Usage::

    from tests.fakeserver import Fault, FakeServer, Reply

    with FakeServer() as server:
        server.route("/version", lambda req: Reply.json({"dataTimestamp": "..."}))
        server.add_faults("/version", Fault.status(429, retry_after="2"))
        ...  # point the client at server.url

Faults are consumed in order, one per request to their path; once they are used up the
path's normal handler answers.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

ESEARCH_DOCTYPE = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n'
    '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]
    raw_target: str

    @property
    def params(self) -> dict[str, str]:
        """Query and form parameters merged (last value wins), as the API would read them."""
        merged = {k: v[-1] for k, v in self.query.items()}
        merged.update({k: v[-1] for k, v in self.form.items()})
        return merged

    def everything(self) -> str:
        """Request target, headers and body as one string, for leak checks."""
        head = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"{self.method} {self.raw_target}\n{head}\n\n{self.body.decode('latin-1')}"


@dataclass(frozen=True)
class Reply:
    """A canned HTTP response."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200, **headers: str) -> Reply:
        """JSON body (``obj`` may already be bytes, e.g. a recorded fixture)."""
        body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        return cls(status, body, {"Content-Type": "application/json", **headers})

    @classmethod
    def xml(cls, body: bytes | str, status: int = 200, **headers: str) -> Reply:
        """XML body, as E-utilities sends it."""
        data = body.encode() if isinstance(body, str) else body
        return cls(status, data, {"Content-Type": "text/xml; charset=UTF-8", **headers})


@dataclass(frozen=True)
class Fault:
    """A scripted misbehaviour for one request.

    kind ``reply``: answer with ``reply`` instead of the handler (429, 5xx, malformed body);
    ``delay``: wait ``seconds`` before answering normally (longer than the client's read
    timeout gives a timeout); ``truncate``: announce the full Content-Length but send only
    ``keep`` of the body, then close the connection; ``drip``: trickle a body one byte
    every ``keep`` seconds for at most ``seconds``.
    """

    kind: str
    reply: Reply | None = None
    seconds: float = 0.0
    keep: float = 0.5

    @classmethod
    def status(cls, code: int, *, retry_after: str | None = None, body: bytes = b"error") -> Fault:
        """An error status, optionally with ``Retry-After`` (seconds or HTTP-date)."""
        headers = {"Content-Type": "text/plain"}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        return cls("reply", reply=Reply(code, body, headers))

    @classmethod
    def body(cls, data: bytes, *, status: int = 200, content_type: str = "text/plain") -> Fault:
        """A successful status with a broken body (malformed XML/JSON)."""
        return cls("reply", reply=Reply(status, data, {"Content-Type": content_type}))

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Answer normally, but only after ``seconds``."""
        return cls("delay", seconds=seconds)

    @classmethod
    def passthrough(cls) -> Fault:
        """No fault: lets a queue target the second, third... request to a path."""
        return cls("delay", seconds=0.0)

    @classmethod
    def redirect(cls, location: str, code: int = 302) -> Fault:
        """A redirect to ``location`` (absolute, or relative to the request)."""
        return cls("reply", reply=Reply(code, b"", {"Location": location}))

    @classmethod
    def drip(cls, interval: float = 0.05, seconds: float = 20.0) -> Fault:
        """Announce a large body, then send one byte every ``interval`` seconds for at
        most ``seconds``: never silent long enough for a read timeout."""
        return cls("drip", seconds=seconds, keep=interval)

    @classmethod
    def truncate(cls, keep: float = 0.5) -> Fault:
        """Send only the first ``keep`` fraction of the normal body."""
        return cls("truncate", keep=keep)


Handler = Callable[[RecordedRequest], Reply]


class FakeServer:
    """Threaded HTTP server on 127.0.0.1 with routes, scripted faults and a request log."""

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> FakeServer:
        """Bind a free port and serve in a daemon thread."""
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: truncation is visible

            def do_GET(self) -> None:
                owner._handle(self)

            def do_POST(self) -> None:
                owner._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL ending in ``/`` (use it for both the E-utilities and CT.gov bases)."""
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    # -- configuration ----------------------------------------------------------------

    def route(self, path: str, handler: Handler) -> None:
        """Answer requests to ``path`` (e.g. ``"/esearch.fcgi"``) with ``handler``."""
        self._routes[path] = handler

    def add_faults(self, path: str, *faults: Fault) -> None:
        """Queue faults for the next requests to ``path``, in order."""
        with self._lock:
            self._faults.setdefault(path, []).extend(faults)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Recorded requests for one path, in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- request handling -------------------------------------------------------------

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        split = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        form: dict[str, list[str]] = {}
        if "application/x-www-form-urlencoded" in (http.headers.get("Content-Type") or ""):
            form = parse_qs(body.decode(), keep_blank_values=True)
        request = RecordedRequest(
            method=http.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            form=form,
            body=body,
            headers=dict(http.headers.items()),
            raw_target=http.path,
        )
        with self._lock:
            self.requests.append(request)
            queue = self._faults.get(split.path)
            fault = queue.pop(0) if queue else None
        if fault is not None and fault.kind == "reply" and fault.reply is not None:
            self._send(http, fault.reply)
            return
        handler = self._routes.get(split.path)
        reply = handler(request) if handler else Reply(404, b"no route", {})
        if fault is not None and fault.kind == "drip":
            self._drip(http, fault.keep, fault.seconds)
            return
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        keep = None
        if fault is not None and fault.kind == "truncate":
            keep = int(len(reply.body) * fault.keep)
        self._send(http, reply, keep=keep)

    @staticmethod
    def _drip(http: BaseHTTPRequestHandler, interval: float, seconds: float) -> None:
        with suppress(BrokenPipeError, ConnectionResetError):
            http.send_response(200)
            http.send_header("Content-Type", "application/json")
            http.send_header("Content-Length", str(10**6))
            http.end_headers()
            http.wfile.flush()
            stop = time.monotonic() + seconds
            while time.monotonic() < stop:
                http.wfile.write(b" ")
                http.wfile.flush()
                time.sleep(interval)
        http.close_connection = True

    @staticmethod
    def _send(http: BaseHTTPRequestHandler, reply: Reply, keep: int | None = None) -> None:
        # The client may have given up (timeout tests): a broken pipe here is expected.
        with suppress(BrokenPipeError, ConnectionResetError):
            http.send_response(reply.status)
            for name, value in reply.headers.items():
                http.send_header(name, value)
            http.send_header("Content-Length", str(len(reply.body)))
            http.end_headers()
            http.wfile.write(reply.body if keep is None else reply.body[:keep])
            http.wfile.flush()
        http.close_connection = True


# -- E-utilities helpers --------------------------------------------------------------


def esearch_xml(
    count: int,
    ids: Iterable[str] = (),
    *,
    translation: str = "",
    query_key: str | None = None,
    webenv: str | None = None,
    errors: Mapping[str, Sequence[str]] | None = None,
    warnings: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """Synthetic ESearch XML in NCBI's format (with the DOCTYPE ``Bio.Entrez`` needs)."""
    id_list = list(ids)
    parts = [
        ESEARCH_DOCTYPE,
        f"<eSearchResult><Count>{count}</Count><RetMax>{len(id_list)}</RetMax>",
        "<RetStart>0</RetStart>",
    ]
    if query_key is not None:
        parts.append(f"<QueryKey>{query_key}</QueryKey><WebEnv>{webenv or ''}</WebEnv>")
    parts.append("<IdList>" + "".join(f"<Id>{i}</Id>" for i in id_list) + "</IdList>")
    parts.append(f"<TranslationSet/><QueryTranslation>{escape(translation)}</QueryTranslation>")
    for tag, content in (("ErrorList", errors), ("WarningList", warnings)):
        if content:
            inner = "".join(
                f"<{name}>{escape(v)}</{name}>" for name, vals in content.items() for v in vals
            )
            parts.append(f"<{tag}>{inner}</{tag}>")
    parts.append("</eSearchResult>")
    return "".join(parts).encode()


_CRDT = re.compile(r"(\d{4}/\d{2}/\d{2}):(\d{4}/\d{2}/\d{2})\[crdt\]")
_UID = re.compile(r"(\d+):(\d+)\[uid\]")


class PubmedCorpus:
    """An in-memory PubMed: PMID -> create date, answering ESearch by ``[crdt]``/``[uid]``.

    Like the real service it reports the full ``Count`` but returns at most
    ``min(retmax, 9999)`` IDs, so clients must split windows to get everything.
    """

    cap = 9999

    def __init__(self, crdt: Mapping[str, date], articles: Mapping[str, bytes] | None = None):
        self.crdt = dict(crdt)
        self.articles = dict(articles or {})

    def matching(self, term: str) -> list[str]:
        """PMIDs matching the window(s) in ``term``, newest PMID first (PubMed's order)."""
        hits = list(self.crdt)
        if m := _CRDT.search(term):
            lo, hi = (datetime.strptime(x, "%Y/%m/%d").date() for x in m.groups())
            hits = [p for p in hits if lo <= self.crdt[p] <= hi]
        if m := _UID.search(term):
            ulo, uhi = int(m[1]), int(m[2])
            hits = [p for p in hits if ulo <= int(p) <= uhi]
        return sorted(hits, key=int, reverse=True)

    def esearch(self, request: RecordedRequest) -> Reply:
        """Handler for ``/esearch.fcgi``."""
        params = request.params
        hits = self.matching(params.get("term", ""))
        retmax = min(int(params.get("retmax", 20)), self.cap)
        return Reply.xml(esearch_xml(len(hits), hits[:retmax], translation=params.get("term", "")))

    def efetch(self, request: RecordedRequest) -> Reply:
        """Handler for ``/efetch.fcgi``: the stored articles for the requested IDs."""
        ids = [i for i in request.params.get("id", "").split(",") if i]
        body = b"".join(self.articles[i] for i in ids if i in self.articles)
        return Reply.xml(
            b'<?xml version="1.0" ?>\n<PubmedArticleSet>' + body + b"</PubmedArticleSet>"
        )

    def install(self, server: FakeServer) -> None:
        """Route both E-utilities endpoints to this corpus."""
        server.route("/esearch.fcgi", self.esearch)
        server.route("/efetch.fcgi", self.efetch)


def pubmed_article(pmid: str, title: str = "Synthetic title") -> bytes:
    """A minimal synthetic ``PubmedArticle`` (labelled synthetic: not a recording)."""
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
        f'<PMID Version="1">{pmid}</PMID><Article PubModel="Print"><Journal><JournalIssue>'
        f"<PubDate><Year>2024</Year></PubDate></JournalIssue><Title>J</Title></Journal>"
        f"<ArticleTitle>{escape(title)}</ArticleTitle></Article></MedlineCitation>"
        f'<PubmedData><ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId>'
        f"</ArticleIdList></PubmedData></PubmedArticle>"
    ).encode()


# -- ClinicalTrials.gov helpers ---------------------------------------------------------


class CtgovPages:
    """Serve a chain of ``/studies`` pages linked by their ``nextPageToken``.

    The first request (no ``pageToken``) gets ``pages[0]``; a request carrying page *i*'s
    token gets page *i + 1*; an unknown token gets HTTP 400 like the real API.
    """

    def __init__(self, pages: Sequence[bytes | Mapping[str, Any]]) -> None:
        self.pages = [p if isinstance(p, bytes) else json.dumps(p).encode() for p in pages]
        self.by_token: dict[str | None, bytes] = {None: self.pages[0]}
        for prev, page in itertools.pairwise(self.pages):
            token = json.loads(prev).get("nextPageToken")
            assert token, "every page but the last needs a nextPageToken"
            self.by_token[token] = page

    def __call__(self, request: RecordedRequest) -> Reply:
        token = request.params.get("pageToken")
        if token not in self.by_token:
            return Reply.json({"error": "bad pageToken"}, status=400)
        return Reply.json(self.by_token[token])


def chain_pages(
    study_lists: Sequence[Sequence[Mapping[str, Any]]], total: int | None = None
) -> list[dict]:
    """Synthetic pages from study lists: tokens ``t1, t2, ...``; ``totalCount`` on page 1."""
    pages: list[dict] = []
    for i, studies in enumerate(study_lists):
        page: dict[str, Any] = {"studies": list(studies)}
        if i == 0:
            page["totalCount"] = total if total is not None else sum(len(s) for s in study_lists)
        if i < len(study_lists) - 1:
            page["nextPageToken"] = f"t{i + 1}"
        pages.append(page)
    return pages


def minimal_study(nct_id: str, **status: Any) -> dict[str, Any]:
    """A synthetic study with only an identification and status module."""
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "briefTitle": f"Trial {nct_id}"},
            "statusModule": {"overallStatus": "RECRUITING", **status},
        }
    }


def serve(server_factory: Callable[[], FakeServer] = FakeServer) -> Iterator[FakeServer]:
    """Fixture body: ``server = pytest.fixture(serve)`` in a test module or conftest.py."""
    with server_factory() as server:
        yield server
