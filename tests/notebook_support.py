"""Jupyter notebook JSON for the notebook, upload and spine tests."""

from __future__ import annotations

import json


def notebook(*cells: dict, nbformat: int = 4) -> bytes:
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": nbformat}).encode()


def code(source, outputs=()) -> dict:
    return {"cell_type": "code", "source": source, "outputs": list(outputs), "metadata": {}}


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "source": source, "metadata": {}}
