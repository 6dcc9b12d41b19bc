"""The ``bigtent`` command line.

Exit codes: 0 success (every record loaded or unchanged); 1 some input was rejected
(the report says which record, where and why; nothing of a rejected record is
written); 2 the command could not run (bad arguments, configuration, busy store, a full
disk: the message names DATA_DIR, and nothing of the refused write was recorded).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from loader.base.errors import BigtentError, DiskFull, is_disk_full
from loader.base.settings import SETTINGS, Settings, load_settings
from loader.catalogue import Catalogue, revision_log_target
from loader.editing.batch_edits import CSV, QUICKSTATEMENTS
from loader.editing.bulk_import import BATCH_SUFFIXES, load_batch_file
from loader.ingest.pipeline import LoadReport
from loader.publish.dumps import NQUADS, dumps_dir, write_dumps, write_nquads
from loader.staff.accounts import (
    ACCOUNTS_FILE,
    EDITOR,
    ROLES,
    DatabaseAccounts,
    check_name,
    open_accounts,
)
from loader.storage.database import is_postgres_url, redact
from loader.storage.remote_store import RemoteStore
from loader.storage.revision_log import RevisionLog

EXIT_OK, EXIT_REJECTED, EXIT_ERROR = 0, 1, 2
#: Commands that change the catalogue: the page index catches up after them, so
#: `bigtent serve` starts with browsing and search ready.
WRITING_COMMANDS = frozenset(
    {"load", "demo", "ontology", "reindex", "delete", "merge", "hide", "unhide", "erase"}
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bigtent",
        description="Bigtent: a linked open data registry of partnerships and capacities.",
        epilog="Exit codes: 0 success, 1 some input rejected, 2 could not run. Settings come "
        "from BIGTENT_* environment variables or a TOML file (--config); see "
        "`bigtent settings`.",
    )
    parser.add_argument("--config", help="TOML settings file (default: $BIGTENT_CONFIG)")
    parser.add_argument("--data-dir", help="override DATA_DIR")
    parser.add_argument("--base-url", help="override BASE_URL")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    load = sub.add_parser("load", help="validate and load records from files, directories or -")
    load.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="Turtle, N-Triples, N-Quads, TriG, JSON-LD, RDF/XML (.gz too), QuickStatements "
        "(.qs, .tsv) or QuickStatements CSV (.csv); directories are read recursively; - reads "
        "standard input",
    )
    load.add_argument(
        "--format",
        help="input format when the file name does not say it (ttl, nt, nq, trig, jsonld, rdf, "
        "qs, csv)",
    )
    load.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    load.add_argument(
        "--all-or-nothing", action="store_true", help="reject the whole batch if any record fails"
    )
    load.add_argument("--summary", default="", help="revision summary (default: the file name)")
    load.add_argument("--author", help="revision author (default: AUTHOR or your login)")
    load.add_argument("--json", action="store_true", help="print the report as JSON")
    load.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: only on a terminal)",
    )

    sub.add_parser("demo", help="build the ontology and the demo catalogue into DATA_DIR")
    sub.add_parser("ontology", help="(re)install the ontology into DATA_DIR")

    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", help="override HOST")
    serve.add_argument("--port", type=int, help="override PORT")

    dump = sub.add_parser("dump", help="write full and truthy dumps (N-Triples, Turtle; gzip)")
    dump.add_argument("--out", default=None, help="directory (default: DUMP_DIR)")
    dump.add_argument(
        "--nquads",
        action="store_true",
        help=f"instead, write {NQUADS}: every graph of the store, named as in the store "
        "(one per entity, and the ontology), for an engine's bulk loader",
    )

    sub.add_parser("reindex", help="rebuild the triple store from the revision log")

    verify = sub.add_parser(
        "verify",
        help="compare the triple store with the revision log; report drift (revisions "
        "pending, graphs missing, extra or different) and exit 1 if there is any",
    )
    verify.add_argument(
        "--repair",
        action="store_true",
        help="apply pending revisions and rewrite missing, extra and different graphs",
    )

    delete = sub.add_parser("delete", help="delete an entity, leaving a tombstone")
    delete.add_argument("entity", metavar="QID")
    delete.add_argument("--reason", required=True, help="why (recorded in the revision log)")
    delete.add_argument("--author")

    merge = sub.add_parser("merge", help="merge entity Qa into Qb; Qa then redirects to Qb")
    merge.add_argument("source", metavar="Qa")
    merge.add_argument("target", metavar="Qb")
    merge.add_argument("--summary", default="")
    merge.add_argument("--author")

    hide = sub.add_parser("hide", help="hide a person item from every public output")
    hide.add_argument("entity", metavar="QID")
    hide.add_argument("--reason", required=True, help="why (kept in the revision log for staff)")
    hide.add_argument("--author")
    unhide = sub.add_parser("unhide", help="show a hidden person item again")
    unhide.add_argument("entity", metavar="QID")
    unhide.add_argument("--summary", default="")
    unhide.add_argument("--author")
    erase = sub.add_parser(
        "erase", help="erase a person item's data everywhere, keeping only a tombstone"
    )
    erase.add_argument("entity", metavar="QID")
    erase.add_argument("--author")

    sub.add_parser("settings", help="list every setting with its value, default and help")

    copy = sub.add_parser(
        "copy-database",
        help="copy the revision log and accounts into another, empty database "
        "(e.g. from SQLite into PostgreSQL before setting DATABASE_URL)",
    )
    copy.add_argument(
        "target", help="postgresql://user:password@host:port/database, or a directory for SQLite"
    )

    user = sub.add_parser(
        "user",
        help="manage staff accounts (passwords are read from a prompt or stdin, never argv)",
    )
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an account; asks for the password")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default=EDITOR)
    actions.add_parser("list", help="list accounts")
    set_role = actions.add_parser("set-role", help="change an account's role")
    set_role.add_argument("name")
    set_role.add_argument("role", choices=ROLES)
    for action, text in (
        ("disable", "disable an account (ends its sessions)"),
        ("enable", "enable a disabled account"),
        ("remove", "delete an account (its edits keep its name)"),
        ("password", "set a new password (asks for it; ends the account's sessions)"),
        ("logout", "end every session of an account"),
    ):
        actions.add_parser(action, help=text).add_argument("name")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if args.data_dir:
        overrides["DATA_DIR"] = args.data_dir
    if args.base_url:
        overrides["BASE_URL"] = args.base_url
    for name in ("host", "port"):
        if getattr(args, name, None):
            overrides[name.upper()] = getattr(args, name)
    return load_settings(args.config, overrides=overrides)


def print_report(report: LoadReport, limit: int, as_json: bool) -> None:
    """Print a load report (to stdout; problems to stderr)."""
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    for error in report.file_errors:
        print(f"error: {error.message}", file=sys.stderr)
    shown = 0
    for rejection in report.rejections:
        for line in rejection.lines(report.prefixes):
            if shown >= limit:
                break
            print(line, file=sys.stderr)
            shown += 1
    hidden = sum(len(r.problems) + 1 for r in report.rejections) - shown
    if hidden > 0:
        print(
            f"... and {hidden} more lines (MAX_REPORTED_ERRORS={limit}; --json shows all)",
            file=sys.stderr,
        )
    for warning in report.warnings[:limit]:
        for line in warning.lines(report.prefixes, verdict="loaded with warnings"):
            print(line, file=sys.stderr)
    verb = "would load" if report.dry_run else "loaded"
    unreadable = f", {len(report.file_errors)} file(s) rejected" if report.file_errors else ""
    print(
        f"{verb} {report.loaded} record(s) ({report.created} new, {report.updated} changed), "
        f"{report.unchanged} unchanged, {report.rejected} rejected"
        f"{unreadable}"
        f" in {report.seconds:.1f}s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    settings: Settings | None = None
    try:
        settings = _settings(args)
        if args.command == "settings":
            return _list_settings(settings)
        if args.command == "serve":
            return _serve(settings)
        if args.command == "user":
            return _user(settings, args)
        if args.command == "copy-database":
            return _copy_database(settings, args.target)
        # verify reports the revisions the store missed before anything applies them
        with Catalogue.open(settings, recover=args.command != "verify") as cat:
            code = _run(cat, settings, args)
            if args.command in WRITING_COMMANDS and not getattr(args, "dry_run", False):
                cat.page_index.catch_up()
            return code
    except BigtentError as exc:
        print(f"bigtent: error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if is_disk_full(exc):  # from the store, SQLite or the system, wherever it struck
            where = settings.data_dir if settings is not None else args.data_dir or "DATA_DIR"
            print(f"bigtent: error: {DiskFull(where, str(exc)[:300]).message}", file=sys.stderr)
            return EXIT_ERROR
        if isinstance(exc, OSError):
            print(f"bigtent: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
            return EXIT_ERROR
        raise
    except KeyboardInterrupt:
        print(
            "bigtent: interrupted. Records already accepted are kept (any the store is still "
            "missing are restored from the revision log when the catalogue is next opened); "
            "the rest was not written.",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _batch_format(path: str, chosen: str | None) -> str:
    """``qs`` or ``csv`` for a QuickStatements or CSV input, else ""."""
    if chosen in (QUICKSTATEMENTS, CSV):
        return chosen
    if chosen or path == "-":
        return ""
    return BATCH_SUFFIXES.get(path.rsplit(".", 1)[-1].lower() if "." in path else "", "")


def _load_batch(cat: Catalogue, path: Path, fmt: str, args: argparse.Namespace) -> int:
    """Load a QuickStatements or CSV file the way the import page does (see
    :func:`loader.editing.bulk_import.load_batch_file`); print its report."""
    if str(path) == "-":
        raise BigtentError(
            "QuickStatements and CSV are read from files, not from standard input: save it "
            "as a .qs or .csv file"
        )
    report, written = load_batch_file(
        cat.editor,
        path,
        fmt,
        author=cat.repository.author(args.author),
        summary=args.summary,
        index=cat.page_index,
        dry_run=args.dry_run,
    )
    if args.json:
        print(json.dumps({"file": str(path), **report.as_dict()}, indent=2))
    for error in report.file_errors:
        print(f"error: {path}: {error}", file=sys.stderr)
    for record in report.records:
        for problem in record.problems:
            print(f"{path}:{record.line}: {record.entity}: {problem.message}", file=sys.stderr)
    for name in report.names:
        if name.chosen is not None:
            print(f"{path}:{name.line}: {name.text!r} ({name.column}) is {name.chosen}")
    counts = {s: report.count(s) for s in ("new", "changed", "unchanged", "rejected")}
    verb = "would load" if args.dry_run else "loaded"
    done = counts["new"] + counts["changed"] if args.dry_run else len(written)
    if not args.json:
        print(
            f"{path}: {verb} {done} record(s) ({counts['new']} new, {counts['changed']} "
            f"changed), {counts['unchanged']} unchanged, {counts['rejected']} rejected"
            + (", the file rejected" if report.file_errors else "")
        )
    return EXIT_REJECTED if report.file_errors or counts["rejected"] else EXIT_OK


def _run(cat: Catalogue, settings: Settings, args: argparse.Namespace) -> int:
    limit = settings.MAX_REPORTED_ERRORS
    if args.command == "load":
        batches = [p for p in args.paths if _batch_format(p, args.format)]
        rdf = [p for p in args.paths if p not in batches]
        code = EXIT_OK
        for path in batches:
            code = max(code, _load_batch(cat, Path(path), _batch_format(path, args.format), args))
        if not rdf:
            return code
        report = cat.load_paths(
            rdf,
            dry_run=args.dry_run,
            all_or_nothing=args.all_or_nothing,
            author=args.author,
            summary=args.summary,
            format=args.format,
            progress=args.progress,
        )
        print_report(report, limit, args.json)
        return max(code, EXIT_OK if report.ok else EXIT_REJECTED)
    if args.command in ("demo", "ontology"):
        reports = cat.build_demo() if args.command == "demo" else [cat.install_ontology()]
        for report in reports:
            print_report(report, limit, False)
        return EXIT_OK if all(r.ok for r in reports) else EXIT_REJECTED
    if args.command == "dump":
        where = Path(args.out) if args.out else dumps_dir(settings)
        if args.nquads:
            quads = write_nquads(cat.repository, where / NQUADS)
            print(f"{where / NQUADS} ({quads:,} quads)")
            return EXIT_OK
        manifest = write_dumps(cat, where)
        for entry in manifest.files:
            print(f"{where / entry.name} ({entry.bytes:,} bytes, {entry.triples:,} triples)")
        print(f"dumps of revision {manifest.revision} written in {manifest.seconds:.1f}s")
        return EXIT_OK
    if args.command == "reindex":
        count = cat.reindex()
        print(f"rebuilt the store from the revision log: {count} entities")
        return EXIT_OK
    if args.command == "verify":
        drift = cat.verify(repair=args.repair)
        for line in drift.lines():
            print(line)
        return EXIT_OK if drift.clean or args.repair else EXIT_REJECTED
    if args.command == "delete":
        rev = cat.delete(args.entity, args.reason, args.author)
        print(f"deleted {args.entity} (revision {rev.id})")
        return EXIT_OK
    if args.command == "hide":
        rev = cat.privacy.hide(args.entity, args.reason, args.author)
        print(f"hid {args.entity} (revision {rev.id}); staff still see it")
        return EXIT_OK
    if args.command == "unhide":
        rev = cat.privacy.unhide(args.entity, args.author, args.summary)
        print(f"unhid {args.entity} (revision {rev.id})")
        return EXIT_OK
    if args.command == "erase":
        rev = cat.privacy.erase(args.entity, args.author)
        print(
            f"erased {args.entity} (revision {rev.id}): its data is gone from the store, "
            "the revision log and the dumps; a tombstone remains"
        )
        return EXIT_OK
    if args.command == "merge":
        redirect, target = cat.merge(args.source, args.target, args.author, args.summary)
        print(
            f"merged {args.source} into {args.target} (revisions {target.id}, {redirect.id}); "
            f"{args.source} now redirects"
        )
        return EXIT_OK
    raise AssertionError(args.command)


def read_password(prompt: str = "Password: ") -> str:
    """A password from the terminal (asked twice) or, when piped, the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise BigtentError("the two passwords differ; nothing was changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _user(settings: Settings, args: argparse.Namespace) -> int:
    """``bigtent user ...``: the account database only (works while the server runs)."""
    with closing(open_accounts(settings)) as accounts:
        if args.action == "list":
            sessions = accounts.session_counts()
            for account in accounts.list_users():
                state = "disabled" if account.disabled else "enabled"
                print(
                    f"{account.name}\t{account.role}\t{state}\t"
                    f"last login {account.last_login or '-'}\t"
                    f"{sessions.get(account.name, 0)} session(s)"
                )
            return EXIT_OK
        if args.action == "add":
            check_name(args.name)
            created = accounts.add_user(args.name, args.role, read_password())
            print(f"created {created.name} ({created.role})")
        elif args.action == "set-role":
            print(f"{accounts.set_role(args.name, args.role).name} is now {args.role}")
        elif args.action in ("disable", "enable"):
            accounts.set_disabled(args.name, args.action == "disable")
            print(f"{args.name} is {args.action}d")
        elif args.action == "remove":
            accounts.remove_user(args.name)
            print(f"removed {args.name}")
        elif args.action == "password":
            accounts.set_password(args.name, read_password("New password: "))
            print(f"password of {args.name} changed; its sessions ended")
        elif args.action == "logout":
            print(f"ended {accounts.end_sessions(args.name)} session(s) of {args.name}")
    return EXIT_OK


def _copy_database(settings: Settings, target: str) -> int:
    """``bigtent copy-database TARGET``: log and accounts, as they are now, into TARGET."""
    to_url = is_postgres_url(target)
    log_to: Path | str = target if to_url else Path(target) / "revisions.sqlite3"
    accounts_to: Path | str = target if to_url else Path(target) / ACCOUNTS_FILE
    with (
        closing(RevisionLog(revision_log_target(settings))) as log,
        closing(RevisionLog(log_to)) as log_copy,
        closing(open_accounts(settings)) as accounts,
        closing(DatabaseAccounts(accounts_to, accounts.policy)) as accounts_copy,
    ):
        rows = log.copy_into(log_copy) + accounts.copy_into(accounts_copy)
        print(
            f"copied {log_copy.count()} revisions of {log_copy.entity_count()} live entities "
            f"and {len(accounts_copy.list_users())} accounts ({rows} rows) to "
            f"{redact(target) if to_url else target}"
        )
    return EXIT_OK


SECRET_SETTINGS = frozenset({"SECRET_KEY", "STORE_PASSWORD"})  # never printed


def _list_settings(settings: Settings) -> int:
    for s in SETTINGS:
        value = settings.values[s.name]
        shown = "(set, not shown)" if s.name in SECRET_SETTINGS and value else f"{value!s}"
        if s.name == "DATABASE_URL":
            shown = redact(str(value))  # the address helps; the password never shows
        print(f"{s.env}={shown}\n    default: {s.default!r}\n    {s.help}\n")
    return EXIT_OK


def _serve(settings: Settings) -> int:
    from webapp.server import serve

    if settings.DATABASE_URL.strip():
        # Reach the shared database before the server starts, so a wrong address or
        # password is one clear error rather than an app that fails to start.
        RevisionLog(revision_log_target(settings)).close()
    if settings.STORE == "sparql":
        # Reach the engine and write to it as saves will, before accepting any request:
        # a wrong password or a missing grant stops here (exit 2, naming the setting).
        with closing(RemoteStore(settings)) as store:
            store.check_writable()

    print(
        f"Bigtent serving {settings.data_dir} at http://{settings.HOST}:{settings.PORT}/ "
        "(Ctrl+C stops)",
        flush=True,
    )
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
