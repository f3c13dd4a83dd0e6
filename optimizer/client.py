"""A thin Python client of the gridsite service.

from optimizer.client import Client
with Client("http://127.0.0.1:8000", key) as gs:
    scenario = gs.upload("data/default")
    job = gs.wait(gs.submit(scenario["id"], "solve", {"mip_gap_frac": 0.01})["id"])
    gs.download(job["id"], "sites.csv", "sites.csv")
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx

DONE = ("succeeded", "failed", "cancelled")


class ServiceError(Exception):
    """The service answered with an error: its status and message."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status, self.detail = status, detail
        super().__init__(f"{status}: {detail}")


def zip_folder(folder: str | Path) -> bytes:
    """The scenario folder as zip bytes (paths relative to the folder)."""
    root = Path(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


class Client:
    def __init__(self, url: str, key: str, timeout_s: float = 60.0) -> None:
        self.http = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout_s,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ServiceError(response.status_code, detail)
        return response.json() if response.content else None

    def upload(self, folder: str | Path) -> dict[str, Any]:
        """Upload a scenario folder; its record (``id`` is its content hash)."""
        files = {"file": ("scenario.zip", zip_folder(folder), "application/zip")}
        return self._json(self.http.post("/v1/scenarios", files=files))  # type: ignore[no-any-return]

    def scenarios(self, limit: int = 50, offset: int = 0) -> list[Any]:
        """The key's uploaded scenarios, newest first."""
        params = {"limit": limit, "offset": offset}
        return self._json(self.http.get("/v1/scenarios", params=params))["scenarios"]  # type: ignore[no-any-return]

    def submit(
        self,
        scenario_id: str,
        kind: str = "solve",
        options: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        body = {"scenario_id": scenario_id, "kind": kind, "options": options or {}}
        return self._json(self.http.post("/v1/jobs", json=body, headers=headers))  # type: ignore[no-any-return]

    def job(self, job_id: str) -> dict[str, Any]:
        return self._json(self.http.get(f"/v1/jobs/{job_id}"))  # type: ignore[no-any-return]

    def jobs(self, state: str | None = None, limit: int = 50, offset: int = 0) -> list[Any]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if state:
            params["state"] = state
        return self._json(self.http.get("/v1/jobs", params=params))["jobs"]  # type: ignore[no-any-return]

    def progress(self, job_id: str) -> list[dict[str, Any]]:
        """The job's recorded progress points (its gap curve), oldest first."""
        return self._json(self.http.get(f"/v1/jobs/{job_id}/progress"))["points"]  # type: ignore[no-any-return]

    def wait(self, job_id: str, timeout_s: float = 600.0, retry_s: float = 0.5) -> dict[str, Any]:
        """Follow the job's server-sent events until it is done (succeeded, failed or
        cancelled): one request, no polling. A dropped stream or a 503 (the job store down
        for a moment) is retried every ``retry_s``. The job."""
        deadline = time.monotonic() + timeout_s
        state = "unknown"
        while time.monotonic() < deadline:
            try:
                with self.http.stream(
                    "GET", f"/v1/jobs/{job_id}/events", timeout=deadline - time.monotonic()
                ) as stream:
                    if stream.status_code >= 400:
                        stream.read()
                        self._json(stream)
                    for line in stream.iter_lines():
                        if line.startswith("data: "):
                            job: dict[str, Any] = json.loads(line.removeprefix("data: "))
                            state = job["state"]
                            if state in DONE:
                                return job
            except httpx.TransportError:
                pass  # the stream broke (a server restart): follow it again
            except ServiceError as e:
                if e.status != 503:
                    raise
            time.sleep(retry_s)
        raise TimeoutError(f"job {job_id} still {state} after {timeout_s:g} s")

    def plan(self, job_id: str) -> dict[str, Any]:
        """The job's plan.json."""
        return self._json(self.http.get(f"/v1/jobs/{job_id}/plan"))  # type: ignore[no-any-return]

    def download(self, job_id: str, name: str, path: str | Path) -> Path:
        response = self.http.get(f"/v1/jobs/{job_id}/files/{name}")
        if response.status_code >= 400:
            self._json(response)
        target = Path(path)
        target.write_bytes(response.content)
        return target

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        """Cancel a queued or running job (the job), or delete a finished one (``None``)."""
        return self._json(self.http.delete(f"/v1/jobs/{job_id}"))  # type: ignore[no-any-return]
