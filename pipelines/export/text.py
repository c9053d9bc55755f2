"""Formula-injection safety (contract §2.2): a source value starting with one of these
characters is shown as text and never evaluated by Excel or LibreOffice."""

# OWASP's list: formula starters, and tab / carriage return that some importers strip.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def csv_safe(value: str) -> str:
    """A text value for a CSV cell: a leading apostrophe makes spreadsheet programs
    import it as text (CSV has no cell types to say so)."""
    return "'" + value if looks_like_formula(value) else value
