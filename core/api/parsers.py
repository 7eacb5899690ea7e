"""DRF's JSON parser, except that a body nested too deeply for Python's parser is a 400 like any
other malformed JSON (DRF turns only ValueError into a ParseError; RecursionError was a 500)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
