"""``annotate open``: start the annotator app (Textual is imported only here)."""

from __future__ import annotations

from pathlib import Path

import click

from .cli_common import CONTEXT_SETTINGS, annotator_option, db_option, get_store


@click.command("open", context_settings=CONTEXT_SETTINGS)
@db_option
@annotator_option
@click.option(
    "--keys",
    "keys_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="ANNOTATE_KEYS",
    show_envvar=True,
    help="Keymap file (TOML: binding id = keys). Default: $XDG_CONFIG_HOME/annotate/keys.toml if it exists.",
)
@click.option(
    "--order",
    type=click.Choice(["import", "uncertainty", "entities"]),
    default="import",
    show_default=True,
    help="Document order: import order, the model's least confident documents first, or the most "
         "predicted entities first (the model is the one the app retrains as you mark documents done; "
         "with none yet, import order until the first retrain).",
)
def open_command(
    db_path: Path | None, annotator: str | None, keys_path: Path | None = None, order: str = "import"
) -> None:
    """Open the annotator app (a new database is first filled with the bundled seeds).

    Press ? in the app for every key; remap keys by binding id in a keymap file. The app
    retrains its model whenever you mark a document done (d); --order uncertainty lists
    the documents it is least sure about first.

    Example:

        annotate open --db news.db --annotator aida --keys my-keys.toml --order uncertainty
    """
    from annotations import inert

    from .keymap import KeymapError, check_label_keys, default_keymap_path, load_keymap

    try:
        keymap = load_keymap(keys_path)
    except KeymapError as exc:
        raise click.ClickException(inert(str(exc))) from None
    store = get_store(db_path, annotator)
    try:
        check_label_keys([(lab.name, lab.key) for lab in store.labels()], keymap,
                         str(keys_path or default_keymap_path()))
    except KeymapError as exc:
        store.close()
        raise click.ClickException(inert(str(exc))) from None

    from .app import run_app

    run_app(store, keymap, order=order)
