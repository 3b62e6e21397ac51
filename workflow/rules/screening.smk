rule check_screening:
    input:
        get_screening_files,
    output:
        marker="results/{review}/.validated/screening.json",
    log:
        "logs/check_screening/{review}.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/check_screening.py"


rule check_extraction:
    input:
        extraction=get_extraction_table,
    output:
        marker="results/{review}/.validated/extraction.json",
    log:
        "logs/check_extraction/{review}.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/check_extraction.py"


rule screen_new_records:
    input:
        marker="results/{review}/.validated/screening.json",
        candidates="results/{review}/retrieval/candidates.csv",
        report="results/{review}/retrieval/report.json",
        extraction="results/{review}/.validated/extraction.json",
        drafts=get_extraction_drafts,
    output:
        status="results/{review}/screening/status.json",
        conflicts="results/{review}/screening/conflicts.csv",
        template="results/{review}/extraction/template.csv",
        differences="results/{review}/extraction/differences.csv",
    log:
        "logs/screen_new_records/{review}.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/screen_new_records.py"


rule draw_prisma:
    input:
        status="results/{review}/screening/status.json",
    output:
        counts="results/{review}/prisma.json",
        figures=expand("results/{{review}}/prisma.{ext}", ext=("png", "svg")),
    log:
        "logs/draw_prisma/{review}.log",
    conda:
        "../envs/livingmeta.yaml"
    script:
        "../../scripts/draw_prisma.py"
