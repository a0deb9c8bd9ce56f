"""Storage of the command line's profile (server address and credentials) and token.

``maizeplus-client login`` writes a JSON profile, by default
``$XDG_CONFIG_HOME/maizeplus/client.json`` (``~/.config/...`` without
``XDG_CONFIG_HOME``), and the commands keep their access token in
``client-token.json`` beside it. Both files are created with mode 0600 in a
folder with mode 0700, because they contain secrets in plain text.

Each value of the profile may also come from the environment, with the names
that ``scripts/run-newman`` reads; an environment value wins over the file.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from maizeplus.client.auth import Credentials, StoredToken
from maizeplus.client.errors import MaizeplusError

logger = logging.getLogger("maizeplus.client")

CONFIG_PATH_VARIABLE = "MAIZEPLUS_CLIENT_CONFIG"
ENVIRONMENT_VARIABLES = {
    "base_url": "MAIZEPLUS_API_BASE_URL",
    "client_id": "MAIZEPLUS_API_CLIENT_ID",
    "client_secret": "MAIZEPLUS_API_CLIENT_SECRET",
    "username": "MAIZEPLUS_API_USERNAME",
    "password": "MAIZEPLUS_API_PASSWORD",
}
TOKEN_FILE_NAME = "client-token.json"  # noqa: S105 - a file name, not a secret
PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


class ConfigError(MaizeplusError):
    """The profile is missing, incomplete or unreadable."""


@dataclass(frozen=True)
class Profile:
    """A server's base URL and the credentials to use there."""

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def credentials(self) -> Credentials:
        return Credentials(
            client_id=self.client_id,
            client_secret=self.client_secret,
            username=self.username,
            password=self.password,
        )

    def token_key(self) -> str:
        """Identify whose token the token file contains, so a new login ignores it."""
        return f"{self.base_url}|{self.client_id}|{self.username or ''}"


def default_config_path(environment: Mapping[str, str] | None = None) -> Path:
    """Return the profile's path: ``MAIZEPLUS_CLIENT_CONFIG``, else under the XDG config folder."""
    environment = os.environ if environment is None else environment
    explicit = environment.get(CONFIG_PATH_VARIABLE)
    if explicit:
        return Path(explicit).expanduser()
    base = environment.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "maizeplus" / "client.json"


def write_private_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, readable by its owner only.

    The text goes to a temporary file that is created with mode 0600, so the
    secret is never readable by others, not even for a moment.
    """
    path.parent.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _warn_if_shared(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning(
            "%s is readable by other users (mode %o); run chmod 600 on it",
            path,
            stat.S_IMODE(mode),
        )


def save_profile(path: Path, profile: Profile) -> None:
    """Write the profile with owner-only permissions."""
    write_private_file(path, json.dumps(asdict(profile), indent=2) + "\n")


def load_profile_values(path: Path) -> dict[str, Any]:
    """Read the profile's values, or return none when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read the profile {path}: {error}") from error
    _warn_if_shared(path)
    try:
        values = json.loads(text)
    except ValueError as error:
        raise ConfigError(
            f"the profile {path} is not valid JSON ({error}); run "
            "maizeplus-client login again"
        ) from error
    if not isinstance(values, dict):
        raise ConfigError(f"the profile {path} is not a JSON object")
    return values


def environment_values(environment: Mapping[str, str]) -> dict[str, str]:
    """Return the profile values that the environment sets, by profile field."""
    return {
        name: environment[variable]
        for name, variable in ENVIRONMENT_VARIABLES.items()
        if environment.get(variable)
    }


def merge_profile(*layers: Mapping[str, Any]) -> Profile:
    """Build a profile from layers of values, later layers winning.

    Raises ``ConfigError`` naming what is missing and where to set it.
    """
    values: dict[str, Any] = {}
    for layer in layers:
        values.update({key: value for key, value in layer.items() if value})
    missing = [
        name
        for name in ("base_url", "client_id", "client_secret")
        if not values.get(name)
    ]
    if missing:
        variables = ", ".join(ENVIRONMENT_VARIABLES[name] for name in missing)
        raise ConfigError(
            f"missing {', '.join(missing)}: run maizeplus-client login, or set {variables}"
        )
    if bool(values.get("username")) != bool(values.get("password")):
        raise ConfigError(
            "give both a username and a password (password grant), or neither "
            "(client_credentials grant)"
        )
    return Profile(
        base_url=str(values["base_url"]).rstrip("/"),
        client_id=str(values["client_id"]),
        client_secret=str(values["client_secret"]),
        username=str(values["username"]) if values.get("username") else None,
        password=str(values["password"]) if values.get("password") else None,
    )


class FileTokenStore:
    """Keeps the access token in ``client-token.json`` beside the profile.

    A token stored for another base URL, client or username is ignored.
    """

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key

    def load(self) -> StoredToken | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("key") != self.key:
            return None
        return StoredToken.from_dict(document["token"])

    def save(self, token: StoredToken) -> None:
        document = {"key": self.key, "token": token.to_dict()}
        write_private_file(self.path, json.dumps(document) + "\n")
