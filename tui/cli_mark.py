"""``annotate mark``: set the status of many documents at once, chosen by filter."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import click

from annotations import LANGUAGES, STATUSES

from .cli_common import CONTEXT_SETTINGS, annotator_option, console, db_option, get_store, plain, store_errors

__all__ = ["mark_command", "parse_ids"]


def parse_ids(spec: str) -> list[int]:
    """``"1,4,10-12"`` -> ``[1, 4, 10, 11, 12]``; raises ``click.BadParameter`` on anything else."""
    out: list[int] = []
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        first, sep, last = part.partition("-")
        if not (first.isascii() and first.isdigit()) or (sep and not (last.isascii() and last.isdigit())):
            raise click.BadParameter(f"{part!r} is not an id or a range like 10-20", param_hint="--ids")
        lo, hi = int(first), int(last) if sep else int(first)
        if hi < lo:
            raise click.BadParameter(f"range {part!r} runs backwards", param_hint="--ids")
        if hi - lo > 10_000_000:
            raise click.BadParameter(f"range {part!r} is too long", param_hint="--ids")
        out.extend(range(lo, hi + 1))
    return out


@click.command("mark", context_settings=CONTEXT_SETTINGS)
@db_option
@annotator_option
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--search", default=None, metavar="TEXT", help="Documents matching this full-text search.")
@click.option("--source", default=None, metavar="PATTERN",
              help="Documents imported from a file matching this pattern (shell wildcards: 'kaznerd/*').")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None, help="Documents in this language.")
@click.option("--ids", default=None, metavar="LIST", help="Document ids: 1,4,10-20.")
@click.option("--from", "current", type=click.Choice(STATUSES), default=None,
              help="Only documents whose status (for this annotator) is now this.")
@click.option("--all", "everything", is_flag=True, help="Every document (needed when no filter is given).")
@click.option("--dry-run", is_flag=True, help="Say how many documents would change, change nothing.")
def mark_command(
    db_path: Path | None,
    annotator: str | None,
    status: str,
    search: str | None,
    source: str | None,
    lang: str | None,
    ids: str | None,
    current: str | None,
    everything: bool,
    dry_run: bool,
) -> None:
    """Mark documents done, skipped or todo for an annotator, chosen by filter.

    The filters combine (a document must match all of them). The change is one
    transaction and one undo step in the app. Marking done makes a document's spans
    (none, for a negative example) training data for `annotate export`.

    Example:

        annotate mark done --db news.db --source 'factrueval/*' --lang ru

        annotate mark skipped --db news.db --ids 3,7,10-12
    """
    if not (search or source or lang or ids or current or everything):
        raise click.ClickException("no filter given: use --search, --source, --lang, --ids, --from or --all")
    wanted = set(parse_ids(ids)) if ids is not None else None
    store = get_store(db_path, annotator)
    with store, store_errors():
        chosen = [
            d.id for d in store.iter_documents(status=current, lang=lang, search=search)
            if (wanted is None or d.id in wanted) and (source is None or fnmatch.fnmatchcase(d.source, source))
        ]
        if dry_run:
            console.print(plain(f"{len(chosen)} document(s) match; {store.annotator} would mark them {status}."))
            return
        changed = store.set_status_many(chosen, status)
    console.print(plain(
        f"Marked {changed} document(s) {status} for {store.annotator}"
        f" ({len(chosen) - changed} of the {len(chosen)} matching already were)."
    ))
