"""Validate a .gitpod.yml against the Gitpod JSON schema; print every error."""
import json
import sys

import jsonschema
import yaml

schema_path, document_path = sys.argv[1], sys.argv[2]
with open(schema_path) as f:
    schema = json.load(f)
with open(document_path) as f:
    document = yaml.safe_load(f)
errors = list(jsonschema.Draft7Validator(schema).iter_errors(document))
for error in errors:
    print(f"{document_path}: {'/'.join(map(str, error.path))}: {error.message}")
sys.exit(1 if errors else 0)
