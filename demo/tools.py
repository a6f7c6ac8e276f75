"""The demo business's tools, registered by name in the core's one tool registry.

An agent lists them in its config (`tools: [check_device_status, set_volume, ...]`) and names this
plug-in (`plugins: [demo]`). The model sees closed sets as enums, built from the agent's
`tool_settings`; the customer and language are injected from the conversation's state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from langchain_core.tools import BaseTool, StructuredTool
from langgraph.prebuilt import InjectedState
from pydantic import BaseModel, Field, create_model

from demo.devices import TYPE_WORDS
from demo.smart_home import SmartHomeActions
from tools.actions import CallContext, Proposal, as_write_tool
from tools.registry import ToolEnv, ToolRegistry

CustomerId = Annotated[str | None, InjectedState("customer_id")]
LanguageArg = Annotated[str, InjectedState("language")]
DeviceArg = Annotated[
    str,
    Field(
        max_length=200,
        description="Which of the customer's devices, only the words naming it: its name, its "
        "kind (" + ", ".join(sorted(set().union(*TYPE_WORDS.values()))) + ") and room, or "
        "its id; empty when they name none.",
    ),
]


EXAMPLES: dict[str, list[str]] = {
    "check_device_status": [
        "is my speaker online",
        "status of my devices",
        "is it offline",
        "estado de mi altavoz",
        "está conectado",
        "funciona mi dispositivo",
    ],
    "get_device_info": [
        "what devices do I have",
        "device info",
        "list my devices",
        "qué dispositivos tengo",
        "información del dispositivo",
        "mis dispositivos",
    ],
    "set_volume": [
        "set the volume to 30",
        "turn the volume down",
        "volume up",
        "louder",
        "pon el volumen en 30",
        "baja el volumen",
        "sube el volumen",
        "mute the display",
        "silencia el altavoz",
    ],
    "relocate_device": [
        "move my speaker to the bedroom",
        "relocate the display",
        "move it to the kitchen",
        "mueve mi altavoz al dormitorio",
        "cambia la pantalla de sala",
        "mover a la cocina",
    ],
    "manage_music_service": [
        "connect spotify",
        "link apple music",
        "disconnect deezer",
        "music service",
        "conecta spotify",
        "vincular apple music",
        "servicio de música",
    ],
}


def _actions(env: ToolEnv) -> SmartHomeActions:
    return SmartHomeActions(env.services.get("customers"), env)  # type: ignore[arg-type]


def _context(customer_id: str | None, language: str) -> CallContext:
    return CallContext(customer_id=customer_id, language=language)


def _number(value: Any) -> Any:
    """A model's "30" is 30; anything else is passed on for validation to refuse."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 3:
        return int(value.strip())
    return value


def _tool(
    name: str, description: str, schema: type[BaseModel], func: Any, examples: list[str]
) -> BaseTool:
    built = StructuredTool.from_function(
        func=func, name=name, description=description, args_schema=schema
    )
    built.metadata = {"examples": examples}
    return built


def _examples(env: ToolEnv, name: str) -> list[str]:
    """The tool's example requests (the offline model and the router match them)."""
    return list((env.settings.get("examples") or {}).get(name) or EXAMPLES[name])


def status_tool(env: ToolEnv) -> BaseTool:
    actions = _actions(env)

    class Args(BaseModel):
        device: DeviceArg = ""
        customer_id: CustomerId = None
        language: LanguageArg = "en"

    def run(device: str = "", customer_id: str | None = None, language: str = "en") -> str:
        return actions.device_status(_context(customer_id, language), device)

    description = "Check whether the customer's devices are online, and their volume."
    return _tool(
        "check_device_status", description, Args, run, _examples(env, "check_device_status")
    )


def info_tool(env: ToolEnv) -> BaseTool:
    actions = _actions(env)

    class Args(BaseModel):
        customer_id: CustomerId = None
        language: LanguageArg = "en"

    def run(customer_id: str | None = None, language: str = "en") -> str:
        return actions.device_info(_context(customer_id, language))

    description = "List the customer's devices: name, model, type and room; what devices do I have."
    return _tool("get_device_info", description, Args, run, _examples(env, "get_device_info"))


def _write(
    tool: BaseTool, plan: Any, actions: SmartHomeActions, keys: Mapping[str, Any]
) -> BaseTool:
    async def prepare(arguments: Mapping[str, Any], context: CallContext) -> Proposal | str:
        values = {k: arguments.get(k, default) for k, default in keys.items()}
        return await asyncio.to_thread(plan, context, **values)

    return as_write_tool(tool, prepare)


def volume_tool(env: ToolEnv) -> BaseTool:
    actions = _actions(env)

    class Args(BaseModel):
        volume: Annotated[
            int,
            Field(
                ge=0,
                le=100,
                # A word's forms count too ("silenciala"): agents.offline_values.mentioned.
                description="The new volume, 0 (mute, silence, silencia) to 100.",
            ),
        ]
        device: DeviceArg = ""
        customer_id: CustomerId = None
        language: LanguageArg = "en"

    def run(
        volume: int, device: str = "", customer_id: str | None = None, language: str = "en"
    ) -> str:
        context = _context(customer_id, language)
        return actions.apply(actions.plan_volume(context, volume, device), context)

    def plan(context: CallContext, volume: Any, device: Any) -> Proposal | str:
        return actions.plan_volume(context, _number(volume), device)

    description = (
        "Set the volume of a speaker or display (0-100); turn the volume up or down, or mute it."
    )
    built = _tool("set_volume", description, Args, run, _examples(env, "set_volume"))
    return _write(built, plan, actions, {"volume": None, "device": ""})


def relocate_tool(env: ToolEnv) -> BaseTool:
    actions = _actions(env)
    rooms = tuple(actions.rooms.values()) or ("none",)
    room: Any = Literal[rooms]
    names = ", ".join(
        f"{value} ({actions.rooms.spoken(value)})" for value in actions.rooms.values()
    )
    fields: dict[str, Any] = {
        "new_location": (
            room,
            Field(description=f"The room to move the device to ({names})."),
        ),
        "device": (DeviceArg, ""),
        "customer_id": (CustomerId, None),
        "language": (LanguageArg, "en"),
    }
    Args = create_model("RelocateArgs", **fields)

    def run(
        new_location: str, device: str = "", customer_id: str | None = None, language: str = "en"
    ) -> str:
        context = _context(customer_id, language)
        return actions.apply(actions.plan_relocation(context, new_location, device), context)

    description = "Move one of the customer's devices to another room of the home or office."
    built = _tool("relocate_device", description, Args, run, _examples(env, "relocate_device"))
    return _write(built, actions.plan_relocation, actions, {"new_location": None, "device": ""})


def _operations(env: ToolEnv) -> str:
    """What connecting and disconnecting are called (`music_operations` in the config), so that
    "unlink" or "quita" read as disconnect: "connect (link, add) or disconnect (unlink, ...)"."""
    words = env.settings.get("music_operations") or {}
    return " or ".join(
        f"{operation} ({', '.join(words[operation])})" if words.get(operation) else operation
        for operation in ("connect", "disconnect")
    )


def music_tool(env: ToolEnv) -> BaseTool:
    actions = _actions(env)
    services = tuple(actions.music.values()) or ("none",)
    service: Any = Literal[services]
    operation: Any = Literal["connect", "disconnect"]
    fields: dict[str, Any] = {
        "service": (service, Field(description="The music service.")),
        "operation": (operation, Field("connect", description=_operations(env))),
        "customer_id": (CustomerId, None),
        "language": (LanguageArg, "en"),
    }
    Args = create_model("MusicArgs", **fields)

    def run(
        service: str,
        operation: str = "connect",
        customer_id: str | None = None,
        language: str = "en",
    ) -> str:
        context = _context(customer_id, language)
        return actions.apply(actions.plan_music(context, service, operation), context)

    names = ", ".join(actions.music.name(s, "en") for s in actions.music.values())
    description = f"Connect or disconnect a music service ({names}) to the customer's account."
    built = _tool(
        "manage_music_service", description, Args, run, _examples(env, "manage_music_service")
    )
    return _write(built, actions.plan_music, actions, {"service": None, "operation": "connect"})


FACTORIES = {
    "check_device_status": status_tool,
    "get_device_info": info_tool,
    "set_volume": volume_tool,
    "relocate_device": relocate_tool,
    "manage_music_service": music_tool,
}


def register_tools(registry: ToolRegistry) -> None:
    """Add the demo business's tools to `registry`."""
    for name, factory in FACTORIES.items():
        registry.register(name, factory)


__all__ = ["register_tools"]
