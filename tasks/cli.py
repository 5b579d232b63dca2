"""The `xxgk` command line: `xxgk extract PATH` prints the JSON of spec §10."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from tasks.errors import XxgkError
from tasks.settings import get_settings

EXIT_DOCUMENT_ERROR = 3
EXIT_QUARANTINED = 4


def _dump(obj: Any) -> str:
    """Indented JSON with each cell record on one line, so a report reads top to bottom."""
    if not isinstance(obj, dict) or "cells" not in obj:
        return json.dumps(obj, ensure_ascii=False, indent=2)
    head = {k: v for k, v in obj.items() if k != "cells"}
    cells = ",\n    ".join(json.dumps(c, ensure_ascii=False) for c in obj["cells"])
    text = json.dumps(head, ensure_ascii=False, indent=2)
    return text[:-2] + ',\n  "cells": [\n    ' + cells + "\n  ]\n}"


def cmd_extract(args: argparse.Namespace) -> int:
    from tasks.extract import extract_path

    settings = get_settings()
    try:
        result = extract_path(args.path, max_bytes=settings.extract.max_bytes)
    except XxgkError as exc:
        print(_dump({"error": exc.to_dict(), "source": args.path}))
        return EXIT_DOCUMENT_ERROR
    except FileNotFoundError:
        print(_dump({"error": {"type": "FileNotFound", "message": f"no such file: {args.path}"}}))
        return EXIT_DOCUMENT_ERROR
    print(_dump(result.to_dict()))
    return 0


def cmd_samples(args: argparse.Namespace) -> int:
    """Extract every report under a folder into JSON files and print a one-line summary per report."""
    from tasks.extract import extract_path

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in sorted(p for p in Path(args.folder).rglob("*") if p.is_file() and p.name.startswith("source.")):
        name = path.parent.name
        try:
            result = extract_path(path).to_dict()
        except XxgkError as exc:
            failures += 1
            (out / f"{name}.json").write_text(_dump({"error": exc.to_dict(), "source": str(path)}), "utf-8")
            print(f"{name:32} {exc.type}: {exc}")
            continue
        (out / f"{name}.json").write_text(_dump(result), "utf-8")
        reported = sum(c["status"] == "reported" for c in result["cells"])
        print(
            f"{name:32} {result['media']:5} {result['format_version']:10} {result['year']} {result['agency']}"
            f"  {reported}/{len(result['cells'])} cells printed"
        )
    print(f"JSON written to {out}/")
    return 1 if failures else 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """Run the ingest flow once over SOURCE into DEST; a summary at the end; non-zero if anything was quarantined."""
    from flows.ingest import ingest

    result = ingest(source=args.source, output=args.output, prefix=args.prefix)
    out = args.output
    print()
    print(
        f"ingested: {result['published']} published, {result['unchanged']} unchanged, "
        f"{result['superseded']} superseded, {result['older']} older versions kept as history, "
        f"{len(result['quarantined'])} quarantined"
    )
    if result["statuses"]:
        print("quality: " + ", ".join(f"{v} {k}" for k, v in sorted(result["statuses"].items())))
    for q in result["quarantined"]:
        print(f"  quarantined {q['source']}: {q['error']}: {q['message']}")
    print(f"parquet:  {out}/parquet/  (cells, reports, checks, t2_active_disclosure, t3_applications, t4_review_litigation)")
    print(f"quality:  {out}/quality/index.html")
    return EXIT_QUARANTINED if result["quarantined"] else 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Watch SOURCE for uploads (SQS notifications with --queue, else polling) and ingest them in batches."""
    import signal
    import threading

    from flows.watch import watch

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    queue = args.queue or get_settings().storage.queue_url
    n = watch(args.source, args.output, queue_url=queue, prefix=args.prefix, stop=stop, max_batches=args.max_batches)
    print(f"watcher stopped after {n} batch(es)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The main job on embedded defaults: seed a local bucket folder with the sample reports, ingest it."""
    import shutil

    settings = get_settings().pipeline
    bucket = Path(settings.source)
    incoming = bucket / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    seeded = 0
    for src in sorted(Path(args.seed).glob("*/source.*")):
        dst = incoming / f"{src.parent.name}{src.suffix}"
        if not dst.exists():
            shutil.copyfile(src, dst)
            seeded += 1
    print(f"local bucket {bucket}/: {seeded} sample report(s) uploaded, {len(list(incoming.iterdir()))} in incoming/")
    args.source, args.output, args.prefix = str(bucket), settings.output, ""
    code = cmd_ingest(args)
    print(
        "\nTo watch runs in the Prefect UI: `.venv/bin/xxgk server` (a local server on this run's database; the\n"
        "temporary server used by this command stopped with it), then open the address it prints."
    )
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xxgk", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("extract", help="extract one report and print its cells as JSON")
    p.add_argument("path", help="a local file (PDF, HTML, DOCX or text)")
    p.set_defaults(func=cmd_extract)
    p = sub.add_parser("extract-all", help="extract every source.* file under a folder into JSON files")
    p.add_argument("folder")
    p.add_argument("--output", default="output/extract")
    p.set_defaults(func=cmd_samples)
    p = sub.add_parser("ingest", help="run the ingest flow once: SOURCE (folder or s3://bucket/prefix) into DEST")
    p.add_argument("source")
    p.add_argument("--output", "-o", required=True, help="a folder or s3://bucket/prefix")
    p.add_argument("--prefix", default="", help="only keys under this prefix of SOURCE")
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser("run", help="the main job on embedded defaults: seed a local bucket with the samples, ingest it")
    p.add_argument("--seed", default="tests/fixtures/samples", help="folder of sample reports (*/source.*)")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("watch", help="turn uploads into batched ingest runs (SQS notifications or polling)")
    p.add_argument("source", help="a folder or s3://bucket/prefix")
    p.add_argument("--output", "-o", required=True, help="a folder or s3://bucket/prefix")
    p.add_argument("--queue", help="SQS queue URL receiving the bucket's ObjectCreated notifications")
    p.add_argument("--prefix", default="", help="only keys under this prefix of SOURCE (polling)")
    p.add_argument("--max-batches", type=int, default=None, help="stop after this many batches (default: run until stopped)")
    p.set_defaults(func=cmd_watch)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verbose:  # Prefect configures its own console logging for the flow commands
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `xxgk extract … | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
