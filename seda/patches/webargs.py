"""webargs: a JSON body that cannot be parsed is a 400 envelope, whatever json raised.

json raises ValueError for an integer of over 4,300 digits and RecursionError for nesting
deeper than the stack; webargs turns only JSONDecodeError into a 400, so the others were 500s
(SECURITY.md's outside-attack classes). There is no public hook for either."""

import json

from webargs.flaskparser import FlaskParser, abort

PATCHED_FOR = "webargs==8.7.1"
PATCHED = {
    "webargs.flaskparser.FlaskParser._raw_load_json": "(self, req: 'flask.Request') -> 'typing.Any'",
    "webargs.flaskparser.FlaskParser._handle_invalid_json_error": (
        "(self, error: 'json.JSONDecodeError | UnicodeDecodeError', req: 'flask.Request', "
        "*args: 'typing.Any', **kwargs: 'typing.Any') -> 'typing.NoReturn'"
    ),
}


class MalformedJsonIs400(FlaskParser):
    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except (RecursionError, ValueError) as error:
            if isinstance(error, json.JSONDecodeError):
                raise
            return self._handle_invalid_json_error(error, req)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, exc=error, messages={"_schema": ["Malformed JSON body"]})
