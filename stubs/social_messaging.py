"""A local stand-in for AWS End User Messaging Social (the `socialmessaging` REST-JSON API):
`SendWhatsAppMessage` records Meta's message JSON per origination number, and
`GetWhatsAppMessageMedia` copies a media file (`app.state.media[media_id] = (bytes, mime)`) into
the requested S3 object, through the S3 endpoint botocore is configured with. Reached through
`AWS_ENDPOINT_URL_SOCIALMESSAGING`; it checks no signature."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from typing import Any

import boto3
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def create_social_messaging_stub() -> FastAPI:
    app = FastAPI()
    app.state.sent = []
    app.state.media = {}
    counter = itertools.count(1)
    instance = uuid.uuid4().hex[:8]

    @app.post("/v1/whatsapp/send")
    async def send(request: Request) -> JSONResponse:
        body: dict[str, Any] = await request.json()
        message = json.loads(base64.b64decode(body["message"]))
        message_id = f"wamid.eum.{instance}.{next(counter)}"
        app.state.sent.append(
            {
                "origination": body["originationPhoneNumberId"],
                "meta_api_version": body["metaApiVersion"],
                "id": message_id,
                **message,
            }
        )
        return JSONResponse({"messageId": message_id})

    @app.post("/v1/whatsapp/media/get")
    async def media(request: Request) -> JSONResponse:
        body: dict[str, Any] = await request.json()
        if body["mediaId"] not in app.state.media:
            return JSONResponse(
                {"message": "unknown media"},
                status_code=404,
                headers={"x-amzn-errortype": "ResourceNotFoundException"},
            )
        content, mime = app.state.media[body["mediaId"]]
        target = body["destinationS3File"]
        boto3.client("s3").put_object(
            Bucket=target["bucketName"], Key=target["key"], Body=content, ContentType=mime
        )
        return JSONResponse({"mimeType": mime, "fileSize": len(content)})

    return app


def eum_sent_to(app: FastAPI, wa_id: str) -> list[dict[str, Any]]:
    """The messages (not read receipts) sent to `wa_id`."""
    return [m for m in app.state.sent if m.get("to") == wa_id]
