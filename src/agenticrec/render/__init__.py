"""HTML pages from the Jinja2 templates in `templates/`: autoescaped, and strict about missing variables.

The bottom layer of the package: it imports only jinja2. Pages extend `base.html.j2`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("agenticrec.render", "templates"),
        autoescape=jinja2.select_autoescape(("html", "html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(template_name: str, **context: Any) -> str:
    """Render `templates/<template_name>`; a variable the template uses but `context` lacks raises UndefinedError."""
    return _environment().get_template(template_name).render(**context)
