"""The worker's Docker sandbox, built from the app's settings (one place names the images)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from grader.sandbox import DockerSandbox


def docker_sandbox(image: str | None = None, labels: dict[str, str] | None = None) -> DockerSandbox:
    """A DockerSandbox with the configured images ("torch": `image` or SANDBOX_IMAGE)."""
    from grader.sandbox import DockerSandbox

    config = current_app.config
    return DockerSandbox(
        image=image or config["SANDBOX_IMAGE"],
        numpy_image=config["SANDBOX_NUMPY_IMAGE"],
        labels=labels,
    )
