"""Benchmarks, run on demand (`make bench`, `python -m bench [pull|patch|pricing|session|...]`),
never by `make test`. Each starts what it needs on 127.0.0.1 (our app under gunicorn, the CPO
simulator as `manage.py simulate_cpo`, a scratch database), goes through the product's real code
paths, stays inside a time budget, cleans up, and reports figures against their targets."""
