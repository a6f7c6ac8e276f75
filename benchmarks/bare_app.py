"""The ingest benchmark's baseline: a FastAPI endpoint that answers 200 and does no work."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/webhook")
async def webhook(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"status": "ok"})


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
