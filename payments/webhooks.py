from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import dispatch, gateway


@csrf_exempt  # Stripe signs its requests instead
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verified with STRIPE_WEBHOOK_SECRET; a bad signature is a 400 and changes nothing. An
    event about a PaymentIntent makes us read that intent and apply it, as `confirm` does; a
    `charge.dispute.*` event makes us read the dispute it names and apply that
    (`payments.disputes`), never the body's copy. Each event is stored once: a replay, or an
    event about no checkout of ours or about a dispute Stripe does not know, is a 200 that does
    nothing."""
    try:
        event = gateway.parse_webhook(request.body, request.headers.get("Stripe-Signature", ""))
    except gateway.InvalidWebhook:
        return JsonResponse({"error": "invalid signature or payload"}, status=400)
    fresh = dispatch.record_stripe_event(event)
    return JsonResponse({"received": True, "replay": not fresh})
