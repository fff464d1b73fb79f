#!/usr/bin/env python3
"""Makes the hand-made packuments of npm-signals/ from the recorded npm/chalk.json: python3 make-signals.py

The recorded copy comes from a mirror that leaves out _npmUser, maintainers and dist.attestations and whose `time`
values are not the real history. This copy adds them in the shape the public registry's packument documentation
gives (`_npmUser: {name, email}`, `maintainers: [{name, email}]`, `dist.attestations: {url, provenance:
{predicateType}}`), gives every version a plausible monthly publication time, and appends one version, 6.0.2, that
looks like an account takeover: a postinstall script, a publisher who never published chalk, no attestations, a new
dependency (color-telemetry, itself published two hours earlier with an install script), published one hour before
the tests' clock (2026-06-01T12:00:00Z).
"""
import json, datetime

def semver_key(v):
    main, _, pre = v.partition("-")
    return tuple(int(x) for x in main.split(".")) + ((1,) if not pre else (0, pre))

chalk = json.load(open("npm/chalk.json"))
versions = sorted(chalk["versions"], key=semver_key)
start = datetime.datetime(2019, 1, 1, tzinfo=datetime.timezone.utc)
maintainers = [{"name": "sindresorhus", "email": "sindresorhus@gmail.com"}, {"name": "qix", "email": "josh@junon.me"}]
time = {"created": start.isoformat().replace("+00:00", "Z")}
for i, v in enumerate(versions):
    m = chalk["versions"][v]
    m["_npmUser"] = {"name": "sindresorhus" if i % 3 else "qix", "email": "maintainer@example.invalid"}
    m["maintainers"] = maintainers
    when = start + datetime.timedelta(days=30 * i)
    time[v] = when.isoformat().replace("+00:00", "Z")
    if semver_key(v) >= (5, 4, 0, 1):
        m["dist"]["attestations"] = {"url": "{registry}-/npm/v1/attestations/chalk@" + v,
                                     "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}}
bad = json.loads(json.dumps(chalk["versions"]["6.0.1"]))
bad["version"] = "6.0.2"
bad["scripts"] = {"postinstall": "node setup.js"}
bad["_npmUser"] = {"name": "helpful-contributor", "email": "helper@example.invalid"}
bad["maintainers"] = maintainers + [{"name": "helpful-contributor", "email": "helper@example.invalid"}]
bad["dependencies"] = {"color-telemetry": "^1.0.0"}
bad["dist"].pop("attestations", None)
bad["dist"]["tarball"] = "{registry}chalk/-/chalk-6.0.2.tgz"
chalk["versions"]["6.0.2"] = bad
time["6.0.2"] = "2026-06-01T11:00:00Z"
time["modified"] = "2026-06-01T11:00:00Z"
chalk["time"] = time
chalk["dist-tags"] = {"latest": "6.0.2"}
chalk["maintainers"] = maintainers
json.dump(chalk, open("npm-signals/chalk.json", "w"), separators=(",", ":"))

telemetry = {
    "name": "color-telemetry",
    "dist-tags": {"latest": "1.0.0"},
    "time": {"created": "2026-06-01T10:00:00Z", "modified": "2026-06-01T10:00:00Z", "1.0.0": "2026-06-01T10:00:00Z"},
    "versions": {"1.0.0": {"name": "color-telemetry", "version": "1.0.0", "scripts": {"preinstall": "node collect.js"},
                           "_npmUser": {"name": "helpful-contributor", "email": "helper@example.invalid"},
                           "maintainers": [{"name": "helpful-contributor", "email": "helper@example.invalid"}],
                           "dist": {"tarball": "{registry}color-telemetry/-/color-telemetry-1.0.0.tgz",
                                    "integrity": "sha512-" + "A" * 86 + "=="}}},
}
json.dump(telemetry, open("npm-signals/color-telemetry.json", "w"), separators=(",", ":"))
