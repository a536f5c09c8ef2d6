"""Writes the fixture plans of the shipped policy rules: policies/tests/<rule>/<case>.plan.json and
<case>.expected.yaml. Run from the repository root: python3 eng/policy-fixtures/generate.py

The aws-terraform-generated cases are not written here: they are the output of terraform 1.11.4 with the AWS
provider 5.100.0 for tests/ImageForge.Policy.Tests/Terraform/main.tf (terraform show -json), committed as made.

Each case is (rule, name, plan, expected); expected lists the normalized addresses by decision and may add
today, parameters and admitted (docs/policy.md).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from plans import U, config_only, plan, resource  # noqa: E402

CASES = []


def case(rule, name, p, **expected):
    CASES.append((rule, name, p, expected))


KMS = "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def bucket(address, name="acme-data", **extra):
    return resource(address, {"bucket": name, "force_destroy": False, "tags": None, **extra})


def sse(address, bucket_ref=None, algorithm="aws:kms", key=KMS, bucket_name=U, key_refs=None, count=None):
    refs = {}
    if bucket_ref:
        refs["bucket"] = [bucket_ref + ".id", bucket_ref]
    if key_refs:
        refs["rule.apply_server_side_encryption_by_default.kms_master_key_id"] = key_refs
    after = {"bucket": bucket_name, "expected_bucket_owner": None,
             "rule": [{"bucket_key_enabled": None,
                       "apply_server_side_encryption_by_default": [{"sse_algorithm": algorithm,
                                                                    "kms_master_key_id": key}]}]}
    return resource(address, after, refs=refs, count=count)


S = "storage-encrypted"
# AWS S3
case(S, "aws-bucket-without-encryption-config", plan(bucket("aws_s3_bucket.data")), fail=["aws_s3_bucket.data"])
case(S, "aws-bucket-without-encryption-config-platform-key",
     plan(bucket("aws_s3_bucket.data")), pass_=["aws_s3_bucket.data"], parameters={"key": "platform"})
case(S, "aws-separate-sse-kms-known-key",
     plan(bucket("aws_s3_bucket.data"), sse("aws_s3_bucket_server_side_encryption_configuration.data", "aws_s3_bucket.data")),
     pass_=["aws_s3_bucket.data"])
case(S, "aws-separate-sse-aes256",
     plan(bucket("aws_s3_bucket.data"),
          sse("aws_s3_bucket_server_side_encryption_configuration.data", "aws_s3_bucket.data", "AES256", None)),
     fail=["aws_s3_bucket.data"])
case(S, "aws-separate-sse-aes256-platform-key",
     plan(bucket("aws_s3_bucket.data"),
          sse("aws_s3_bucket_server_side_encryption_configuration.data", "aws_s3_bucket.data", "AES256", None)),
     pass_=["aws_s3_bucket.data"], parameters={"key": "platform"})
case(S, "aws-kms-without-key-id-is-aws-managed",
     plan(bucket("aws_s3_bucket.data"),
          sse("aws_s3_bucket_server_side_encryption_configuration.data", "aws_s3_bucket.data", "aws:kms", None)),
     fail=["aws_s3_bucket.data"])
case(S, "aws-customer-key-created-in-same-plan",
     plan(resource("aws_kms_key.data", {"description": "data", "arn": U, "key_id": U, "enable_key_rotation": True}),
          bucket("aws_s3_bucket.data"),
          sse("aws_s3_bucket_server_side_encryption_configuration.data", "aws_s3_bucket.data", key=U,
              key_refs=["aws_kms_key.data.arn", "aws_kms_key.data"])),
     pass_=["aws_s3_bucket.data"])
case(S, "aws-key-unknown-from-data-source",
     plan(bucket("aws_s3_bucket.data"),
          sse("aws_s3_bucket_server_side_encryption_configuration.data", "aws_s3_bucket.data", key=U,
              key_refs=["data.aws_kms_key.shared.arn", "data.aws_kms_key.shared"])),
     unknown=["aws_s3_bucket.data"])
case(S, "aws-conditional-sse-algorithm-resolved-at-plan",
     plan(bucket("aws_s3_bucket.secure", "acme-secure"), bucket("aws_s3_bucket.plain", "acme-plain"),
          sse("aws_s3_bucket_server_side_encryption_configuration.secure", "aws_s3_bucket.secure"),
          sse("aws_s3_bucket_server_side_encryption_configuration.plain", "aws_s3_bucket.plain", "AES256", None)),
     pass_=["aws_s3_bucket.secure"], fail=["aws_s3_bucket.plain"])
case(S, "aws-conditional-sse-algorithm-unknown",
     plan(bucket("aws_s3_bucket.data"),
          sse("aws_s3_bucket_server_side_encryption_configuration.data", "aws_s3_bucket.data", algorithm=U, key=U)),
     unknown=["aws_s3_bucket.data"])
case(S, "aws-count-conditional-encryption-enabled",
     plan(bucket("aws_s3_bucket.data"),
          sse("aws_s3_bucket_server_side_encryption_configuration.data[0]", "aws_s3_bucket.data",
              count={"references": ["var.encrypt"]})),
     pass_=["aws_s3_bucket.data"])
case(S, "aws-count-conditional-encryption-disabled",
     plan(bucket("aws_s3_bucket.data"),
          config_only("aws_s3_bucket_server_side_encryption_configuration.data",
                      refs={"bucket": ["aws_s3_bucket.data.id", "aws_s3_bucket.data"]},
                      count={"references": ["var.encrypt"]})),
     fail=["aws_s3_bucket.data"])
case(S, "aws-logging-bucket-exception",
     plan(bucket("aws_s3_bucket.access_logs", "acme-access-logs"), bucket("aws_s3_bucket.data"),
          sse("aws_s3_bucket_server_side_encryption_configuration.access_logs", "aws_s3_bucket.access_logs",
              "AES256", None),
          sse("aws_s3_bucket_server_side_encryption_configuration.data", "aws_s3_bucket.data")),
     excepted=["aws_s3_bucket.access_logs"], pass_=["aws_s3_bucket.data"], today="2026-12-01")
case(S, "aws-logging-bucket-exception-expired",
     plan(bucket("aws_s3_bucket.access_logs", "acme-access-logs"),
          sse("aws_s3_bucket_server_side_encryption_configuration.access_logs", "aws_s3_bucket.access_logs",
              "AES256", None)),
     fail=["aws_s3_bucket.access_logs"], today="2027-07-01")
case(S, "aws-inline-legacy-block",
     plan(resource("aws_s3_bucket.legacy", {"bucket": "acme-legacy", "server_side_encryption_configuration": [
         {"rule": [{"bucket_key_enabled": False, "apply_server_side_encryption_by_default": [
             {"sse_algorithm": "aws:kms", "kms_master_key_id": KMS}]}]}]})),
     pass_=["aws_s3_bucket.legacy"])
case(S, "aws-update-joined-by-bucket-name",
     plan(resource("aws_s3_bucket.data", {"bucket": "acme-data", "id": "acme-data"}, actions=("no-op",)),
          resource("aws_s3_bucket.other", {"bucket": "acme-other", "id": "acme-other"}, actions=("no-op",)),
          resource("aws_s3_bucket_server_side_encryption_configuration.data",
                   {"bucket": "acme-data", "rule": [{"apply_server_side_encryption_by_default": [
                       {"sse_algorithm": "aws:kms", "kms_master_key_id": KMS}]}]}, actions=("update",))),
     pass_=["aws_s3_bucket.data"], fail=["aws_s3_bucket.other"])
case(S, "aws-module-bucket-and-encryption",
     plan(bucket("module.storage.aws_s3_bucket.this"),
          sse("module.storage.aws_s3_bucket_server_side_encryption_configuration.this", "aws_s3_bucket.this")),
     pass_=["module.storage.aws_s3_bucket.this"])


# Azure storage accounts
def account(address, name="acmedata", id_=U, **extra):
    return resource(address, {"name": name, "id": id_, "account_tier": "Standard", "account_replication_type": "LRS",
                              "customer_managed_key": [], **extra})


def cmk(address, account_ref=None, account_id=U, key_id=U, key_refs=None, actions=("create",)):
    refs = {}
    if account_ref:
        refs["storage_account_id"] = [account_ref + ".id", account_ref]
    if key_refs:
        refs["key_vault_key_id"] = key_refs
    return resource(address, {"storage_account_id": account_id, "key_vault_key_id": key_id, "key_name": None,
                              "key_vault_id": None, "user_assigned_identity_id": None}, refs=refs, actions=actions)


KV = "https://acme-kv.vault.azure.net/keys/storage/0123456789abcdef0123456789abcdef"
case(S, "azure-account-microsoft-managed", plan(account("azurerm_storage_account.data")),
     fail=["azurerm_storage_account.data"])
case(S, "azure-account-microsoft-managed-platform-key", plan(account("azurerm_storage_account.data")),
     pass_=["azurerm_storage_account.data"], parameters={"key": "platform"})
case(S, "azure-inline-customer-managed-key",
     plan(account("azurerm_storage_account.data",
                  customer_managed_key=[{"key_vault_key_id": KV, "managed_hsm_key_id": None,
                                         "user_assigned_identity_id": "/subscriptions/s/id"}])),
     pass_=["azurerm_storage_account.data"])
case(S, "azure-separate-key-created-in-same-plan",
     plan(resource("azurerm_key_vault_key.storage", {"name": "storage", "id": U, "key_type": "RSA"}),
          account("azurerm_storage_account.data"),
          cmk("azurerm_storage_account_customer_managed_key.data", "azurerm_storage_account.data",
              key_refs=["azurerm_key_vault_key.storage.id", "azurerm_key_vault_key.storage"])),
     pass_=["azurerm_storage_account.data"])
ACCOUNT_ID = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acmedata"
case(S, "azure-separate-key-on-update-joined-by-id",
     plan(account("azurerm_storage_account.data", id_=ACCOUNT_ID, actions=None) if False else
          resource("azurerm_storage_account.data", {"name": "acmedata", "id": ACCOUNT_ID, "customer_managed_key": []},
                   actions=("no-op",)),
          cmk("azurerm_storage_account_customer_managed_key.data", account_id=ACCOUNT_ID, key_id=KV)),
     pass_=["azurerm_storage_account.data"])
case(S, "azure-inline-key-block-unknown",
     plan(account("azurerm_storage_account.data", customer_managed_key=U)),
     unknown=["azurerm_storage_account.data"])
case(S, "azure-two-accounts-one-key",
     plan(account("azurerm_storage_account.data"), account("azurerm_storage_account.scratch", "acmescratch"),
          cmk("azurerm_storage_account_customer_managed_key.data", "azurerm_storage_account.data", key_id=KV)),
     pass_=["azurerm_storage_account.data"], fail=["azurerm_storage_account.scratch"])
case(S, "azure-count-conditional-key-disabled",
     plan(account("azurerm_storage_account.data"),
          config_only("azurerm_storage_account_customer_managed_key.data",
                      refs={"storage_account_id": ["azurerm_storage_account.data.id", "azurerm_storage_account.data"]},
                      count={"references": ["var.cmk"]})),
     fail=["azurerm_storage_account.data"])
case(S, "azure-count-conditional-key-enabled",
     plan(account("azurerm_storage_account.data"),
          cmk("azurerm_storage_account_customer_managed_key.data[0]", "azurerm_storage_account.data", key_id=KV)),
     pass_=["azurerm_storage_account.data"])
case(S, "azure-key-removed-in-this-plan",
     plan(resource("azurerm_storage_account.data", {"name": "acmedata", "id": ACCOUNT_ID, "customer_managed_key": []},
                   actions=("no-op",)),
          cmk("azurerm_storage_account_customer_managed_key.data", account_id=ACCOUNT_ID, key_id=KV,
              actions=("delete",))),
     fail=["azurerm_storage_account.data"])
case(S, "azure-module-account-and-key",
     plan(account("module.data.azurerm_storage_account.this"),
          cmk("module.data.azurerm_storage_account_customer_managed_key.this", "azurerm_storage_account.this",
              key_id=KV)),
     pass_=["module.data.azurerm_storage_account.this"])


# Google Cloud Storage
def gcs(address, name="acme-data", encryption=None, refs=None):
    return resource(address, {"name": name, "location": "EU", "uniform_bucket_level_access": True,
                              "encryption": encryption if encryption is not None else []}, refs=refs)


CRYPTO = "projects/acme/locations/europe/keyRings/storage/cryptoKeys/data"
case(S, "gcp-bucket-google-managed", plan(gcs("google_storage_bucket.data")), fail=["google_storage_bucket.data"])
case(S, "gcp-bucket-google-managed-platform-key", plan(gcs("google_storage_bucket.data")),
     pass_=["google_storage_bucket.data"], parameters={"key": "platform"})
case(S, "gcp-bucket-customer-managed-key",
     plan(gcs("google_storage_bucket.data", encryption=[{"default_kms_key_name": CRYPTO}])),
     pass_=["google_storage_bucket.data"])
case(S, "gcp-key-created-in-same-plan",
     plan(resource("google_kms_crypto_key.data", {"name": "data", "id": U, "key_ring": CRYPTO.rsplit("/", 2)[0]}),
          gcs("google_storage_bucket.data", encryption=[{"default_kms_key_name": U}],
              refs={"encryption.default_kms_key_name": ["google_kms_crypto_key.data.id", "google_kms_crypto_key.data"]})),
     pass_=["google_storage_bucket.data"])
case(S, "gcp-key-unknown-from-data-source",
     plan(gcs("google_storage_bucket.data", encryption=[{"default_kms_key_name": U}],
              refs={"encryption.default_kms_key_name": ["data.google_kms_crypto_key.shared.id"]})),
     unknown=["google_storage_bucket.data"])
case(S, "gcp-encryption-block-unknown", plan(gcs("google_storage_bucket.data", encryption=U)),
     unknown=["google_storage_bucket.data"])
case(S, "gcp-two-buckets-mixed",
     plan(gcs("google_storage_bucket.data", encryption=[{"default_kms_key_name": CRYPTO}]),
          gcs("google_storage_bucket.tmp", "acme-tmp")),
     pass_=["google_storage_bucket.data"], fail=["google_storage_bucket.tmp"])
case(S, "gcp-bucket-replaced-with-key",
     plan(resource("google_storage_bucket.data", {"name": "acme-data", "encryption": [{"default_kms_key_name": CRYPTO}]},
                   actions=("delete", "create"))),
     pass_=["google_storage_bucket.data"])
case(S, "gcp-bucket-deleted-is-not-checked",
     plan(resource("google_storage_bucket.old", None, actions=("delete",)),
          gcs("google_storage_bucket.data", encryption=[{"default_kms_key_name": CRYPTO}])),
     pass_=["google_storage_bucket.data"])
case(S, "gcp-module-bucket-with-key",
     plan(gcs("module.lake.google_storage_bucket.raw[\"eu\"]", encryption=[{"default_kms_key_name": CRYPTO}]),
          gcs("module.lake.google_storage_bucket.raw[\"us\"]", "acme-raw-us")),
     pass_=["module.lake.google_storage_bucket.raw[\"eu\"]"], fail=["module.lake.google_storage_bucket.raw[\"us\"]"])

# no-ssh-from-internet
N = "no-ssh-from-internet"


def ingress(from_port, to_port, protocol="tcp", cidrs=None, ipv6=None):
    return {"cidr_blocks": cidrs if cidrs is not None else [], "description": "", "from_port": from_port,
            "ipv6_cidr_blocks": ipv6 if ipv6 is not None else [], "prefix_list_ids": [], "protocol": protocol,
            "security_groups": [], "self": False, "to_port": to_port}


def sg(address, *blocks, actions=("create",)):
    return resource(address, {"name": address.split(".")[-1], "vpc_id": "vpc-0a1b2c3d", "ingress": list(blocks),
                              "egress": [], "id": U}, actions=actions)


SG = "aws_security_group.web"
case(N, "aws-inline-ssh-from-anywhere", plan(sg(SG, ingress(22, 22, cidrs=["0.0.0.0/0"]))),
     fail=[SG + ".ingress[0].cidr_blocks[0]"])
case(N, "aws-inline-https-world-ssh-private",
     plan(sg(SG, ingress(443, 443, cidrs=["0.0.0.0/0"]), ingress(22, 22, cidrs=["10.0.0.0/8", "192.168.0.0/16"]))),
     pass_=[SG + ".ingress[0].cidr_blocks[0]", SG + ".ingress[1].cidr_blocks[0]", SG + ".ingress[1].cidr_blocks[1]"])
case(N, "aws-inline-all-traffic", plan(sg(SG, ingress(0, 0, "-1", cidrs=["0.0.0.0/0"]))),
     fail=[SG + ".ingress[0].cidr_blocks[0]"])
case(N, "aws-inline-port-range-covers-22", plan(sg(SG, ingress(0, 1024, cidrs=["0.0.0.0/0"]))),
     fail=[SG + ".ingress[0].cidr_blocks[0]"])
case(N, "aws-inline-ipv6-anywhere", plan(sg(SG, ingress(22, 22, ipv6=["::/0"]))),
     fail=[SG + ".ingress[0].ipv6_cidr_blocks[0]"])
case(N, "aws-group-plus-separate-rules-on-update",
     plan(resource("aws_security_group.app", {"name": "app", "id": "sg-0123", "ingress": [], "egress": []},
                   actions=("update",)),
          resource("aws_security_group_rule.ssh", {"type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp",
                                                   "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": None,
                                                   "security_group_id": "sg-0123"}),
          resource("aws_security_group_rule.https", {"type": "ingress", "from_port": 443, "to_port": 443,
                                                     "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
                                                     "security_group_id": "sg-0123"}),
          resource("aws_security_group_rule.out", {"type": "egress", "from_port": 0, "to_port": 0, "protocol": "-1",
                                                   "cidr_blocks": ["0.0.0.0/0"], "security_group_id": "sg-0123"})),
     fail=["aws_security_group_rule.ssh.cidr_blocks[0]"], pass_=["aws_security_group_rule.https.cidr_blocks[0]"])
case(N, "aws-vpc-ingress-rule-ssh-from-anywhere",
     plan(resource("aws_vpc_security_group_ingress_rule.ssh", {"cidr_ipv4": "0.0.0.0/0", "cidr_ipv6": None,
                                                               "from_port": 22, "to_port": 22, "ip_protocol": "tcp",
                                                               "security_group_id": U})),
     fail=["aws_vpc_security_group_ingress_rule.ssh.cidr_ipv4"])
case(N, "aws-vpc-ingress-rule-all-traffic-private",
     plan(resource("aws_vpc_security_group_ingress_rule.vpc", {"cidr_ipv4": "10.20.0.0/16", "from_port": None,
                                                               "to_port": None, "ip_protocol": "-1"})),
     pass_=["aws_vpc_security_group_ingress_rule.vpc.cidr_ipv4"])
case(N, "aws-source-unknown-until-apply",
     plan(sg(SG, ingress(22, 22, cidrs=[U]), ingress(443, 443, cidrs=[U]))),
     unknown=[SG + ".ingress[0].cidr_blocks[0]"], pass_=[SG + ".ingress[1].cidr_blocks[0]"])
case(N, "aws-public-single-host", plan(sg(SG, ingress(22, 22, cidrs=["203.0.113.10/32"]))),
     fail=[SG + ".ingress[0].cidr_blocks[0]"])
case(N, "aws-udp-22-is-not-ssh", plan(sg(SG, ingress(22, 22, "udp", cidrs=["0.0.0.0/0"]))),
     pass_=[SG + ".ingress[0].cidr_blocks[0]"])
case(N, "aws-carrier-grade-nat-is-private", plan(sg(SG, ingress(22, 22, cidrs=["100.64.0.0/10"]))),
     pass_=[SG + ".ingress[0].cidr_blocks[0]"])


def nsr(address, source="*", ports="22", protocol="Tcp", access="Allow", direction="Inbound", sources=None,
        port_list=None):
    return resource(address, {"name": address.split(".")[-1], "priority": 100, "direction": direction,
                              "access": access, "protocol": protocol, "source_port_range": "*",
                              "destination_port_range": ports, "destination_port_ranges": port_list or [],
                              "source_address_prefix": source, "source_address_prefixes": sources or [],
                              "destination_address_prefix": "*", "resource_group_name": "rg",
                              "network_security_group_name": "nsg"})


R = "azurerm_network_security_rule.ssh"
case(N, "azure-star-source", plan(nsr(R)), fail=[R + ".source_address_prefix"])
case(N, "azure-internet-tag", plan(nsr(R, "Internet")), fail=[R + ".source_address_prefix"])
case(N, "azure-port-range-20-30", plan(nsr(R, "*", "20-30")), fail=[R + ".source_address_prefix"])
case(N, "azure-every-port", plan(nsr(R, "Internet", "*", "*")), fail=[R + ".source_address_prefix"])
case(N, "azure-deny-rule", plan(nsr(R, "*", access="Deny")), pass_=[R + ".source_address_prefix"])
case(N, "azure-outbound-is-not-ingress",
     plan(nsr(R, direction="Outbound"), nsr("azurerm_network_security_rule.https", "*", "443")),
     pass_=["azurerm_network_security_rule.https.source_address_prefix"])
case(N, "azure-virtual-network-tag", plan(nsr(R, "VirtualNetwork")), pass_=[R + ".source_address_prefix"])
case(N, "azure-source-prefix-list",
     plan(nsr(R, None, sources=["10.0.0.0/8", "0.0.0.0/0"])),
     pass_=[R + ".source_address_prefixes[0]"], fail=[R + ".source_address_prefixes[1]"])
case(N, "azure-port-range-list", plan(nsr(R, "*", None, port_list=["80", "443", "22"])),
     fail=[R + ".source_address_prefix"])
case(N, "azure-inline-security-rules",
     plan(resource("azurerm_network_security_group.web", {"name": "web", "location": "westeurope", "security_rule": [
         {"name": "ssh", "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
          "source_port_range": "*", "source_port_ranges": [], "destination_port_range": "22",
          "destination_port_ranges": [], "source_address_prefix": "Internet", "source_address_prefixes": [],
          "destination_address_prefix": "*", "destination_address_prefixes": [], "description": ""},
         {"name": "https", "priority": 110, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
          "source_port_range": "*", "source_port_ranges": [], "destination_port_range": "443",
          "destination_port_ranges": [], "source_address_prefix": "*", "source_address_prefixes": [],
          "destination_address_prefix": "*", "destination_address_prefixes": [], "description": ""}]})),
     fail=["azurerm_network_security_group.web.security_rule[0].source_address_prefix"],
     pass_=["azurerm_network_security_group.web.security_rule[1].source_address_prefix"])
case(N, "azure-udp", plan(nsr(R, "*", protocol="Udp")), pass_=[R + ".source_address_prefix"])
case(N, "azure-source-unknown-until-apply", plan(nsr(R, U)), unknown=[R + ".source_address_prefix"])
case(N, "azure-any-protocol-any-source", plan(nsr(R, "Any", "22", "*")), fail=[R + ".source_address_prefix"])


def fw(address, ranges=None, allow=None, deny=None, direction="INGRESS", disabled=False, tags=None):
    return resource(address, {"name": address.split(".")[-1], "network": "default", "direction": direction,
                              "disabled": disabled, "priority": 1000,
                              "source_ranges": ranges if ranges is not None else [],
                              "source_tags": tags, "source_service_accounts": None,
                              "allow": allow or [], "deny": deny or []})


F = "google_compute_firewall.ssh"
case(N, "gcp-ssh-from-anywhere", plan(fw(F, ["0.0.0.0/0"], [{"protocol": "tcp", "ports": ["22"]}])),
     fail=[F + ".source_ranges[0].allow[0]"])
case(N, "gcp-no-ports-means-all", plan(fw(F, ["0.0.0.0/0"], [{"protocol": "tcp", "ports": []}])),
     fail=[F + ".source_ranges[0].allow[0]"])
case(N, "gcp-all-protocols", plan(fw(F, ["0.0.0.0/0"], [{"protocol": "all", "ports": []}])),
     fail=[F + ".source_ranges[0].allow[0]"])
case(N, "gcp-private-range", plan(fw(F, ["10.128.0.0/9"], [{"protocol": "tcp", "ports": ["22"]}])),
     pass_=[F + ".source_ranges[0].allow[0]"])
case(N, "gcp-deny-block", plan(fw(F, ["0.0.0.0/0"], deny=[{"protocol": "tcp", "ports": ["22"]}])),
     pass_=[F + ".source_ranges[0].deny[0]"])
case(N, "gcp-egress-is-not-ingress",
     plan(fw(F, None, [{"protocol": "tcp", "ports": ["22"]}], direction="EGRESS"),
          fw("google_compute_firewall.web", ["0.0.0.0/0"], [{"protocol": "tcp", "ports": ["80", "443"]}])),
     pass_=["google_compute_firewall.web.source_ranges[0].allow[0]"])
case(N, "gcp-disabled-rule",
     plan(fw(F, ["0.0.0.0/0"], [{"protocol": "tcp", "ports": ["22"]}], disabled=True)))
case(N, "gcp-port-range-20-30", plan(fw(F, ["0.0.0.0/0"], [{"protocol": "tcp", "ports": ["20-30"]}])),
     fail=[F + ".source_ranges[0].allow[0]"])
case(N, "gcp-no-source-means-anywhere", plan(fw(F, None, [{"protocol": "tcp", "ports": ["22"]}])),
     fail=[F + ".source_ranges.allow[0]"])
case(N, "gcp-source-tags-only",
     plan(fw(F, None, [{"protocol": "tcp", "ports": ["22"]}], tags=["bastion"]),
          fw("google_compute_firewall.web", ["0.0.0.0/0"], [{"protocol": "tcp", "ports": ["443"]}])),
     pass_=["google_compute_firewall.web.source_ranges[0].allow[0]"])
case(N, "gcp-ranges-times-blocks",
     plan(fw(F, ["10.0.0.0/8", "0.0.0.0/0"], [{"protocol": "tcp", "ports": ["443"]}, {"protocol": "tcp", "ports": ["22"]}])),
     pass_=[F + ".source_ranges[0].allow[0]", F + ".source_ranges[0].allow[1]", F + ".source_ranges[1].allow[0]"],
     fail=[F + ".source_ranges[1].allow[1]"])
case(N, "gcp-protocol-number-6", plan(fw(F, ["0.0.0.0/0"], [{"protocol": "6", "ports": ["22"]}])),
     fail=[F + ".source_ranges[0].allow[0]"])

# vm-admitted-image
V = "vm-admitted-image"
AMI = "ami-0123456789abcdef0"
GALLERY = "/subscriptions/0000/resourceGroups/images/providers/Microsoft.Compute/galleries/golden/images/cis/versions/1.4.0"
GIMAGE = "projects/acme-images/global/images/cis-1-4-0"
case(V, "aws-instance-admitted", plan(resource("aws_instance.web", {"ami": AMI, "instance_type": "t3.micro"})),
     pass_=["aws_instance.web"], admitted={"aws": [AMI]})
case(V, "aws-instance-not-admitted", plan(resource("aws_instance.web", {"ami": "ami-0fedcba987654321f"})),
     fail=["aws_instance.web"], admitted={"aws": [AMI]})
case(V, "aws-launch-template", plan(resource("aws_launch_template.web", {"image_id": AMI, "name": "web"})),
     pass_=["aws_launch_template.web"], admitted={"aws": [AMI]})
case(V, "aws-image-unknown-until-apply", plan(resource("aws_instance.web", {"ami": U})),
     unknown=["aws_instance.web"], admitted={"aws": [AMI]})
case(V, "azure-gallery-and-marketplace",
     plan(resource("azurerm_linux_virtual_machine.app", {"name": "app", "source_image_id": GALLERY,
                                                         "source_image_reference": []}),
          resource("azurerm_linux_virtual_machine.jump", {"name": "jump", "source_image_id": None,
                                                          "source_image_reference": [
                                                              {"publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                                                               "sku": "server", "version": "latest"}]})),
     pass_=["azurerm_linux_virtual_machine.app"], fail=["azurerm_linux_virtual_machine.jump"],
     admitted={"azure": [GALLERY]})
case(V, "gcp-instance",
     plan(resource("google_compute_instance.app", {"name": "app", "boot_disk": [
         {"initialize_params": [{"image": GIMAGE, "size": 20}]}]})),
     pass_=["google_compute_instance.app"], admitted={"gcp": [GIMAGE]})
case(V, "same-id-admitted-on-another-cloud-only",
     plan(resource("google_compute_instance.app", {"name": "app", "boot_disk": [
         {"initialize_params": [{"image": AMI}]}]})),
     fail=["google_compute_instance.app"], admitted={"aws": [AMI]})


def write_expected(path, expected):
    lines = []
    for key in ("today",):
        if key in expected:
            lines.append(f"{key}: {expected[key]}")
    for key in ("parameters", "admitted"):
        if key in expected:
            lines.append(f"{key}:")
            for k, v in expected[key].items():
                lines.append(f"  {k}: {json.dumps(v)}")
    for field in ("pass_", "fail", "unknown", "excepted"):
        if field in expected:
            lines.append(f"{field.rstrip('_')}:")
            lines.extend(f"  - {json.dumps(a)}" for a in expected[field])
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" if lines else "{}\n")


def main():
    root = os.path.join("policies", "tests")
    for rule, name, p, expected in CASES:
        directory = os.path.join(root, rule)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, name + ".plan.json"), "w") as f:
            json.dump(p, f, indent=1)
            f.write("\n")
        write_expected(os.path.join(directory, name + ".expected.yaml"), expected)
    print(f"{len(CASES)} cases")


if __name__ == "__main__":
    main()
