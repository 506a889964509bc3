"""The Azure account Terrace resolves from the standard AZURE_STORAGE_* variables, and how obstore
and GDAL are each given it."""

from __future__ import annotations

import pytest

from terrace.errors import SetupError
from terrace.settings import AzureStorageSettings
from terrace.storage import Storage
from terrace.storage.azure import EMULATOR_ACCOUNT, EMULATOR_KEY, AzureAccount

KEY = "a2V5"
AZURITE = (
    f"DefaultEndpointsProtocol=http;AccountName=dev;AccountKey={KEY};BlobEndpoint=http://127.0.0.1:10000/dev;"
)


def test_a_connection_string_gives_the_account_key_and_endpoint_to_both_readers() -> None:
    account = AzureAccount.resolve(connection_string=AZURITE)
    assert account == AzureAccount("dev", KEY, None, "http://127.0.0.1:10000/dev")
    assert account.store_config() == {
        "account_name": "dev",
        "account_key": KEY,
        "endpoint": "http://127.0.0.1:10000/dev",
    }
    assert account.client_options() == {"allow_http": True}
    assert account.gdal_options() == {
        "AZURE_STORAGE_CONNECTION_STRING": f"DefaultEndpointsProtocol=http;AccountName=dev;AccountKey={KEY};"
        "BlobEndpoint=http://127.0.0.1:10000/dev;"
    }
    assert KEY not in repr(account)


def test_a_cloud_connection_string_reaches_https_with_its_endpoint_suffix() -> None:
    text = f"DefaultEndpointsProtocol=https;AccountName=geo;AccountKey={KEY};EndpointSuffix=core.windows.net"
    account = AzureAccount.resolve(connection_string=text)
    assert account is not None and account.endpoint == "https://geo.blob.core.windows.net"
    assert account.client_options() == {}


def test_the_emulator_and_development_storage_mean_azurites_account() -> None:
    emulator = AzureAccount.resolve(use_emulator=True)
    assert emulator is not None and (emulator.name, emulator.key) == (EMULATOR_ACCOUNT, EMULATOR_KEY)
    assert AzureAccount.resolve(connection_string="UseDevelopmentStorage=true") == emulator


def test_a_sas_token_without_key_goes_to_gdal_as_account_and_token() -> None:
    account = AzureAccount.resolve(name="geo", sas_token="?sv=2022&sig=x")
    assert account is not None and account.store_config() == {
        "account_name": "geo",
        "sas_key": "sv=2022&sig=x",
    }
    assert account.gdal_options() == {
        "AZURE_STORAGE_ACCOUNT": "geo",
        "AZURE_STORAGE_SAS_TOKEN": "sv=2022&sig=x",
    }


def test_nothing_set_leaves_credentials_to_obstore_and_gdal_and_a_lone_key_is_refused() -> None:
    assert AzureAccount.resolve() is None
    with pytest.raises(SetupError) as lone_key:
        AzureAccount.resolve(key=KEY)
    assert "AZURE_STORAGE_ACCOUNT_NAME" in str(lone_key.value.remediation)
    with pytest.raises(SetupError, match="AccountName"):
        AzureAccount.resolve(connection_string=f"AccountKey={KEY}")


def test_settings_read_the_standard_names_and_gdals_spelling(monkeypatch: pytest.MonkeyPatch) -> None:
    # An API on Azurite earlier in this process shared its account with GDAL through the environment
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT", "geo")
    monkeypatch.setenv("AZURE_STORAGE_ACCESS_KEY", KEY)
    monkeypatch.setenv("AZURE_STORAGE_ENDPOINT", "https://geo.privatelink.blob.core.windows.net")
    assert AzureStorageSettings().account() == AzureAccount(
        "geo", KEY, None, "https://geo.privatelink.blob.core.windows.net"
    )
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", AZURITE)
    assert AzureStorageSettings().account() == AzureAccount("dev", KEY, None, "http://127.0.0.1:10000/dev")


def test_gdal_reads_objects_by_their_vsi_paths() -> None:
    account = AzureAccount("dev", KEY)
    assert Storage("az://terrace/prod", azure=account).gdal_path("bronze", "a/b.tif") == (
        "/vsiaz/terrace/prod/bronze/a/b.tif"
    )
    assert Storage("s3://bucket").gdal_path("silver", "c.tif") == "/vsis3/bucket/silver/c.tif"
    assert Storage("s3://bucket", azure=account).gdal_options == {}  # the account is Azure's only
    assert Storage("file:///srv/t").gdal_path("bronze", "x.tif") == "/srv/t/bronze/x.tif"
