"""A suite version's configuration is stored as validated, under a versioned schema, and read
back without re-validation (grader.package.config_to_dict / config_from_dict)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.package import (
    CONFIG_SCHEMA,
    PackageError,
    config_from_dict,
    config_to_dict,
    load_package,
)

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"


@pytest.mark.parametrize("slug", ["backprop", "cnn", "optimizers", "rnn"])
def test_every_assignment_config_survives_json_unchanged(slug):
    config = load_package(ASSIGNMENTS / slug).config
    stored = json.loads(json.dumps(config_to_dict(config)))
    assert stored["schema"] == CONFIG_SCHEMA
    assert config_from_dict(stored) == config


def test_a_stored_config_is_read_without_the_validation_of_today(monkeypatch):
    """A rule added to parse_config later must not make stored versions unreadable."""
    config = load_package(ASSIGNMENTS / "backprop").config
    stored = config_to_dict(config)

    def stricter(_raw):
        raise PackageError("a rule this version never knew")

    monkeypatch.setattr("grader.package.parse_config", stricter)
    assert config_from_dict(stored) == config


def test_a_schema_this_grader_does_not_know_is_refused_with_its_number():
    stored = {**config_to_dict(load_package(ASSIGNMENTS / "backprop").config), "schema": 99}
    with pytest.raises(PackageError, match="schema 99"):
        config_from_dict(stored)
