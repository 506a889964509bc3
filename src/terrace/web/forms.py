"""Form input that fails validation, said the way every Terrace error is said."""

from __future__ import annotations

from pydantic import ValidationError

from terrace.errors import InvalidInput


def invalid_input(exc: ValidationError) -> InvalidInput:
    problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in exc.errors())
    return InvalidInput(f"The form is not valid: {problems}.", "Correct the fields named and send it again.")
