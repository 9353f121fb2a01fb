"""Answering with a model the route built and validated itself: its JSON, as it is.

FastAPI validates and serializes a route's return value against its ``response_model``
again; for a model built by the route from validated parts that is the same work twice,
on the reads every client polls. The route keeps declaring ``response_model`` (the OpenAPI
schema) and returns this instead."""

from fastapi import Response
from pydantic import BaseModel


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code, media_type="application/json")
