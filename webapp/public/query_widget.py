"""The words of the query widget, in the reader's language.

YASGUI (the editor and results widget of ``/query`` and ``/embed``) writes its buttons,
tooltips and table controls in English, with no way to configure them. The page renders
one JSON dictionary of translated words (:func:`widget_words`), and
``static/query-editor.js`` puts them in place: YASGUI's own English text, found by its
exact wording, is replaced as it is drawn (the keys written as YASGUI writes them), and
Bigtent's scripts (result views, status, errors, completion) take their messages from the
same dictionary. So the words of the widget live in the one gettext catalogue, with the
rest of the interface.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext


def yasgui_words() -> dict[str, str]:
    """YASGUI's English wording (as its code writes it) → the reader's language."""
    return {
        "Share query": _("Share query"),
        "Run query": _("Run query"),
        "Simple view": _("Simple view"),
        "Ellipse": _("Shorten long values"),
        "Filter query results": _("Filter query results"),
        "Page size:": _("Rows per page:"),
        "All": _("All rows"),
        "True": _("True"),
        "False": _("False"),
        "Show all": _("Show all"),
        "Download result": _("Download result"),
        "Press CTRL - <spacebar> to autocomplete": _("Press Ctrl+Space to complete"),
        "This line is invalid. Expected:": _("This line is invalid. Expected:"),
        # patterns: %(…)s stands for the part YASGUI fills in
        "Prefix '%(prefix)s' is not defined": _(
            "The prefix %(prefix)s is not defined", prefix="%(prefix)s"
        ),
    }


def script_words() -> dict[str, str]:
    """The messages of Bigtent's own scripts (status, errors, views, completion, share)."""
    count, ms = "%(count)s", "%(ms)s"
    return {
        "running": _("Running…"),
        "failed": _("The query failed: %(error)s", error="%(error)s"),
        "failed-at": _(
            "The query failed at line %(line)s, column %(column)s: %(error)s",
            line="%(line)s",
            column="%(column)s",
            error="%(error)s",
        ),
        "done": _("Done in %(ms)s ms.", ms=ms),
        "one": ngettext(
            "%(count)s result in %(ms)s ms.",
            "%(count)s results in %(ms)s ms.",
            1,
            count=count,
            ms=ms,
        ),
        "many": ngettext(
            "%(count)s result in %(ms)s ms.",
            "%(count)s results in %(ms)s ms.",
            2,
            count=count,
            ms=ms,
        ),
        "download-failed": _("The download failed: %(error)s", error="%(error)s"),
        "copied": _("Copied"),
        # result views
        "Map": _("Map"),
        "Map of the results": _("Map of the results"),
        "Bar chart": _("Bar chart"),
        "Line chart": _("Line chart"),
        "Pie chart": _("Pie chart"),
        "Graph": _("Graph"),
        "Graph of the results": _("Graph of the results"),
        "Timeline": _("Timeline"),
        "Timeline of the results": _("Timeline of the results"),
        "Image grid": _("Image grid"),
        "Images in the results": _("Images in the results"),
        "Image on %(host)s": _("Image on %(host)s", host="%(host)s"),
        # the table (DataTables placeholders _START_ … are filled by DataTables itself)
        "table-info": _(
            "Rows %(start)s to %(end)s of %(total)s", start="_START_", end="_END_", total="_TOTAL_"
        ),
        "table-info-empty": _("No rows"),
        "table-info-filtered": _("(out of %(max)s)", max="_MAX_"),
        "table-empty": _("The query returned no results."),
        "table-zero": _("No row matches the filter."),
        "table-first": _("First page"),
        "table-previous": _("Previous page"),
        "table-next": _("Next page"),
        "table-last": _("Last page"),
        "table-sort-ascending": _(": sort in ascending order"),
        "table-sort-descending": _(": sort in descending order"),
    }


def widget_words() -> dict[str, dict[str, str]]:
    """Everything the scripts of the query pages say, for the page's JSON block."""
    return {"yasgui": yasgui_words(), "messages": script_words()}
