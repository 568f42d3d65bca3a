import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Tasks are enqueued by name (payments.queue): load every app's tasks now, once, rather than in
# the first requests' threads at once, where a thread found a task not yet registered (a 500 on
# pay under load with gunicorn's threads).
from config.celery import app as celery_app  # noqa: E402

celery_app.loader.import_default_modules()
