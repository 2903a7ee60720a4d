"""Maps the three top-level folders onto the `palisade` namespace.

pyproject.toml holds the metadata; this file only exists because the package
list is derived from the folders (palisade.agent -> agent/, ...).
"""

from setuptools import find_packages, setup

MAPPING = {"palisade.agent": "agent", "palisade.auditor": "auditor", "palisade.shared": "shared"}

packages = []
for name, folder in MAPPING.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(
    packages=packages,
    package_dir=MAPPING,
    package_data={
        "palisade.auditor": [
            "checks/baseline/policies/*.yaml",
            "checks/vulnerabilities/sample_feed/*.json",
            "model/ddos/data/*.csv",
            "store/migrations/*.mako",
            "web/templates/*.html",
            "web/static/*",
        ],
    },
)
