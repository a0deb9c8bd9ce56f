"""``maizeplus catalog load`` and ``maizeplus progress load``, run as commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.catalog.arrange import catalogue_document, load_catalogue_document
from tests.cli.run import run_maizeplus
from tests.support import TenantCredentials
from tests.users.arrange import UserSpec, add_users


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def rows_of(
    api: httpx.Client, path: str, tenant: TenantCredentials
) -> list[dict[str, Any]]:
    response = api.get(f"{path}?limit=100", headers=tenant.headers)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def test_catalog_load_creates_then_updates(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, tmp_path: Path
) -> None:
    first = write_json(tmp_path / "first.json", catalogue_document(3))
    second_document = catalogue_document(3)
    second_document["courses"][0]["name"] = "Renamed course"
    second_document["topics"].append({"id": 9, "name": "Late topic"})
    second = write_json(tmp_path / "second.json", second_document)

    created = run_maizeplus(
        database_url, "catalog", "load", "--tenant", tenant.name, str(first), "--json"
    )
    updated = run_maizeplus(
        database_url, "catalog", "load", "--tenant", tenant.name, str(second), "--json"
    )

    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout) == {
        "topics created": 3,
        "topics updated": 0,
        "courses created": 3,
        "courses updated": 0,
        "certifications created": 3,
        "certifications updated": 0,
    }
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["topics created"] == 1
    assert json.loads(updated.stdout)["courses updated"] == 3
    courses = rows_of(api, "/api/v1/courses", tenant)
    assert [course["id"] for course in courses] == [1, 2, 3]
    assert courses[0]["name"] == "Renamed course"
    assert [topic["id"] for topic in rows_of(api, "/api/v1/topics", tenant)] == [
        1,
        2,
        3,
        9,
    ]


def test_catalog_load_invalid_file_changes_nothing(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, tmp_path: Path
) -> None:
    load_catalogue_document(database_url, tenant.tenant_id, catalogue_document(2))
    bad_document = catalogue_document(2)
    bad_document["topics"][0]["name"] = "Would be renamed"
    bad_document["courses"][1]["duration"] = "long"
    bad_document["certifications"].append({"id": 2, "name": "Repeated"})
    bad = write_json(tmp_path / "bad.json", bad_document)

    result = run_maizeplus(
        database_url, "catalog", "load", "--tenant", tenant.name, str(bad)
    )

    assert result.returncode == 1
    assert "The file has 2 problems; nothing was changed." in result.stderr
    assert "courses[1].duration: Input should be a valid integer" in result.stderr
    assert "certifications[2].id: id 2 repeats certifications[1]" in result.stderr
    assert rows_of(api, "/api/v1/topics", tenant)[0]["name"] == "Topic 1"
    assert len(rows_of(api, "/api/v1/certifications", tenant)) == 2


def test_catalog_load_unknown_topic_changes_nothing(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, tmp_path: Path
) -> None:
    document = catalogue_document(2)
    document["courses"][1]["topic_id"] = 77
    path = write_json(tmp_path / "catalogue.json", document)

    result = run_maizeplus(
        database_url, "catalog", "load", "--tenant", tenant.name, str(path)
    )

    assert result.returncode == 1
    assert "courses[1].topic_id: no topic has id 77" in result.stderr
    assert rows_of(api, "/api/v1/topics", tenant) == []
    assert rows_of(api, "/api/v1/courses", tenant) == []


def test_catalog_load_topic_of_earlier_load(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, tmp_path: Path
) -> None:
    load_catalogue_document(
        database_url, tenant.tenant_id, {"topics": [{"id": 4, "name": "Lingue"}]}
    )
    courses = write_json(
        tmp_path / "courses.json",
        {"courses": [{"id": 1, "topic_id": 4, "name": "Business English"}]},
    )

    result = run_maizeplus(
        database_url, "catalog", "load", "--tenant", tenant.name, str(courses)
    )

    assert result.returncode == 0, result.stderr
    assert rows_of(api, "/api/v1/courses", tenant)[0]["topic_id"] == 4


def test_catalog_load_unknown_tenant(database_url: str, tmp_path: Path) -> None:
    path = write_json(tmp_path / "catalogue.json", catalogue_document(1))

    result = run_maizeplus(
        database_url, "catalog", "load", "--tenant", "nobody", str(path)
    )

    assert result.returncode == 1
    assert "Tenant 'nobody' not found." in result.stderr


def test_catalog_load_missing_file(
    database_url: str, tenant: TenantCredentials
) -> None:
    result = run_maizeplus(
        database_url,
        "catalog",
        "load",
        "--tenant",
        tenant.name,
        "/nonexistent/catalogue.json",
    )

    assert result.returncode == 1
    assert "cannot read /nonexistent/catalogue.json" in result.stderr


PROGRESS_CSV = (
    "email;course_id;certification_id;started_at;finished_at;progress;score;score_avg;attempts\n"
    "anna.verdi@example.com;1;;2022-11-08T18:39:54Z;;;;;\n"
    "Luca.Bianchi@Example.org;2;;2022-11-08T18:39:54Z;2022-11-09T08:00:00Z;completed;;;\n"
    "anna.verdi@example.com;;1;2024-06-13T14:56:29Z;2024-06-13T15:00:00Z;;100;80;2\n"
)


def arrange_learners(
    database_url: str, tenant: TenantCredentials, tmp_path: Path
) -> list[UserSpec]:
    load_catalogue_document(database_url, tenant.tenant_id, catalogue_document(2))
    return add_users(
        database_url,
        tenant.tenant_id,
        [
            UserSpec(email="anna.verdi@example.com"),
            UserSpec(email="luca.bianchi@example.org"),
        ],
    )


def test_progress_load_csv(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, tmp_path: Path
) -> None:
    anna, luca = arrange_learners(database_url, tenant, tmp_path)
    path = tmp_path / "progress.csv"
    path.write_text(PROGRESS_CSV, encoding="utf-8-sig")

    result = run_maizeplus(
        database_url, "progress", "load", "--tenant", tenant.name, str(path), "--json"
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "course_progress created": 2,
        "course_progress updated": 0,
        "certification_progress created": 1,
        "certification_progress updated": 0,
    }
    courses = rows_of(api, "/api/v1/progress-courses", tenant)
    assert [(row["user"]["uuid"], row["progress"]) for row in courses] == [
        (anna.uuid, "started"),
        (luca.uuid, "completed"),
    ]
    certification = rows_of(api, "/api/v1/progress-certifications", tenant)[0]
    assert (
        certification["score"],
        certification["score_avg"],
        certification["attempts"],
    ) == (
        100,
        "80.00",
        2,
    )


def test_progress_load_json_updates_in_place(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, tmp_path: Path
) -> None:
    arrange_learners(database_url, tenant, tmp_path)
    started = {
        "course_progress": [
            {
                "email": "anna.verdi@example.com",
                "course_id": 1,
                "started_at": "2022-11-08T18:39:54Z",
            }
        ]
    }
    finished = {
        "course_progress": [
            {
                "email": "anna.verdi@example.com",
                "course_id": 1,
                "started_at": "2022-11-08T18:39:54Z",
                "finished_at": "2022-12-01T09:30:00Z",
            }
        ]
    }

    run_maizeplus(
        database_url,
        "progress",
        "load",
        "--tenant",
        tenant.name,
        str(write_json(tmp_path / "a.json", started)),
    )
    result = run_maizeplus(
        database_url,
        "progress",
        "load",
        "--tenant",
        tenant.name,
        str(write_json(tmp_path / "b.json", finished)),
        "--json",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["course_progress updated"] == 1
    rows = rows_of(api, "/api/v1/progress-courses", tenant)
    assert len(rows) == 1
    assert rows[0]["progress"] == "completed"
    assert rows[0]["finished_at"] == "2022-12-01T09:30:00.000000Z"


def test_progress_load_unknown_references_rejected(
    api: httpx.Client, database_url: str, tenant: TenantCredentials, tmp_path: Path
) -> None:
    arrange_learners(database_url, tenant, tmp_path)
    content = (
        PROGRESS_CSV
        + "nobody@example.com;1;;2022-11-08T18:39:54Z;;;;;\n"
        + "anna.verdi@example.com;99;;2022-11-08T18:39:54Z;;;;;\n"
    )
    path = tmp_path / "progress.csv"
    path.write_text(content, encoding="utf-8")

    result = run_maizeplus(
        database_url, "progress", "load", "--tenant", tenant.name, str(path)
    )

    assert result.returncode == 1
    assert "row 5: no user of the tenant has email nobody@example.com" in result.stderr
    assert "row 6: no course has id 99 in the catalogue" in result.stderr
    assert rows_of(api, "/api/v1/progress-courses", tenant) == []
    assert rows_of(api, "/api/v1/progress-certifications", tenant) == []


def test_progress_load_other_tenant_email(
    database_url: str,
    tenant: TenantCredentials,
    other_tenant: TenantCredentials,
    tmp_path: Path,
) -> None:
    arrange_learners(database_url, tenant, tmp_path)
    load_catalogue_document(database_url, other_tenant.tenant_id, catalogue_document(2))
    path = tmp_path / "progress.csv"
    path.write_text(PROGRESS_CSV, encoding="utf-8")

    result = run_maizeplus(
        database_url, "progress", "load", "--tenant", other_tenant.name, str(path)
    )

    assert result.returncode == 1
    assert (
        "row 2: no user of the tenant has email anna.verdi@example.com" in result.stderr
    )
