"""Builds plan JSON in the shape of `terraform show -json` (format 1.2) for the policy fixtures.

U marks a value known only after apply: it is left out of `after` (null inside a list) and written `true` in
`after_unknown`, as Terraform does.
"""
import json
import re


class _Unknown:
    pass


U = _Unknown()

PROVIDERS = {"aws": "registry.terraform.io/hashicorp/aws", "azurerm": "registry.terraform.io/hashicorp/azurerm",
             "google": "registry.terraform.io/hashicorp/google"}


def split(value):
    """(after, after_unknown) of a value with U markers."""
    if value is U:
        return None, True
    if isinstance(value, dict):
        after, unknown = {}, {}
        for k, v in value.items():
            a, u = split(v)
            if v is not U:
                after[k] = a
            if u is not False and u != {} and u != []:
                unknown[k] = u
        return after, unknown
    if isinstance(value, list):
        pairs = [split(v) for v in value]
        unknowns = [u for _, u in pairs]
        return [a for a, _ in pairs], (unknowns if any(u is not False and u != {} and u != [] for u in unknowns) else [])
    return value, False


def resource(address, after, actions=("create",), refs=None, count=None, before=None):
    """One resource change; refs maps an argument to the addresses its expression references."""
    module = ""
    local = address
    m = re.match(r"^((?:module\.[a-z_0-9]+\.)*)(.*)$", address)
    if m:
        module, local = m.group(1), m.group(2)
    index = None
    im = re.search(r"\[(\d+|\"[^\"]*\")\]$", local)
    base = local
    if im:
        raw = im.group(1)
        index = int(raw) if raw.isdigit() else json.loads(raw)
        base = local[: im.start()]
    rtype, name = base.split(".", 1)
    provider = rtype.split("_", 1)[0]
    a, u = split(after) if after is not None else (None, {})
    change = {"address": address, "mode": "managed", "type": rtype, "name": name,
              "provider_name": PROVIDERS[provider],
              "change": {"actions": list(actions), "before": before, "after": a,
                         "after_unknown": u if isinstance(u, dict) else {}, "before_sensitive": False,
                         "after_sensitive": {}}}
    if module:
        change["module_address"] = module.rstrip(".")
    if index is not None:
        change["index"] = index
    config = {"address": base, "mode": "managed", "type": rtype, "name": name, "provider_config_key": provider,
              "expressions": expressions(after or {}, refs or {}), "schema_version": 0}
    if count is not None:
        config["count_expression"] = count
    return {"module": module, "change": change, "config": config}


def expressions(after, refs):
    out = {}
    for k, v in after.items():
        if k in refs:
            out[k] = {"references": refs[k]}
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            out[k] = [expressions(item, {p[len(k) + 1:]: r for p, r in refs.items() if p.startswith(k + ".")})
                      for item in v]
        elif v is not None and not has_unknown(v):
            out[k] = {"constant_value": v}
    for k, r in refs.items():
        if "." not in k and k not in out:
            out[k] = {"references": r}
    return out


def has_unknown(value):
    if value is U:
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def config_only(address, refs=None, count=None):
    """A resource written in the configuration that the plan does not create (count = 0)."""
    r = resource(address, {}, refs=refs, count=count)
    r["change"] = None
    return r


def plan(*resources):
    changes = [r["change"] for r in resources if r["change"] is not None]
    roots = {}
    for r in resources:
        roots.setdefault(r["module"], []).append(r["config"])
    root_module = {"resources": roots.get("", [])}
    calls = {}
    for module, configs in roots.items():
        if module:
            name = module.rstrip(".").split(".")[-1]
            calls[name] = {"source": f"./modules/{name}", "module": {"resources": configs}}
    if calls:
        root_module["module_calls"] = calls
    planned = [{"address": c["address"], "mode": "managed", "type": c["type"], "name": c["name"],
                "provider_name": c["provider_name"], "schema_version": 0, "values": c["change"]["after"]}
               for c in changes if c["change"]["after"] is not None]
    return {"format_version": "1.2", "terraform_version": "1.11.4",
            "planned_values": {"root_module": {"resources": planned}},
            "resource_changes": changes,
            "configuration": {"provider_config": {p: {"name": p, "full_name": f} for p, f in PROVIDERS.items()},
                              "root_module": root_module}}
