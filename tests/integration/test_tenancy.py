"""Two business accounts on one deployment: nothing of one reaches the other (customers, history,
opt-out), through the webhook and the real graph."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from redis import Redis

from server import AccountRegistry, BusinessAccount, create_app
from stores import ConversationMessage, Stores, whatsapp_user_id
from stubs import BackgroundServer, sent_to
from tests.integration.whatsapp import NUMBER, make_channel, message, payload, post, wait_for

pytestmark = pytest.mark.integration
ACME = "200000000000002"


@pytest.fixture(scope="module")
def two_accounts(settings, stores, demo, graph_api) -> Iterator[str]:
    channel = make_channel(settings, stores, demo, graph_api[1], workers=1)
    channel.accounts = AccountRegistry(
        [
            BusinessAccount(
                account_id="default",
                account_name="Hogar",
                phone_number_id=NUMBER,
                access_token="test-token",
            ),
            BusinessAccount(
                account_id="acme",
                account_name="Acme",
                phone_number_id=ACME,
                access_token="test-token",
            ),
        ]
    )
    server = BackgroundServer(create_app(channel))
    server.start()
    yield server.url
    server.stop()


def logged(stores: Stores, wa_id: str, account: str) -> list[ConversationMessage]:
    return [
        m
        for m in stores.conversations.user_messages(whatsapp_user_id(wa_id))
        if m.business_account_id == account
    ]


def test_a_customer_of_one_business_is_a_stranger_at_another(
    two_accounts, graph_api, stores, new_customer
) -> None:
    stub, _ = graph_api
    customer = new_customer("premium")
    wa_id = customer.phone.lstrip("+")
    post(two_accounts, payload(message(wa_id, text={"body": "What is my balance?"}), number=NUMBER))
    wait_for(lambda: len(sent_to(stub, wa_id)) == 1, what="the reply from the first business")
    post(two_accounts, payload(message(wa_id, text={"body": "What is my balance?"}), number=ACME))
    wait_for(lambda: len(sent_to(stub, wa_id)) == 2, what="the reply from the other business")
    home = wait_for(lambda: logged(stores, wa_id, NUMBER), what="the first business's log")
    acme = wait_for(lambda: logged(stores, wa_id, ACME), what="the other business's log")
    assert {m.metadata.get("customer_id") for m in home} == {customer.id}
    assert all("customer_id" not in m.metadata for m in acme)
    assert all(m.session_id != home[0].session_id for m in acme)
    assert sent_to(stub, wa_id)[1]["phone_number_id"] == ACME


def test_history_summaries_stay_within_their_account(stores) -> None:
    wa_id = "15551230001"
    user = whatsapp_user_id(wa_id)
    for account, text in ((NUMBER, "my invoice at Hogar"), (ACME, "my order at Acme")):
        stores.conversations.append(
            ConversationMessage(
                user_id=user,
                session_id=f"s-{account}",
                message_id=f"m-{account}-{time.time_ns()}",
                direction="inbound",
                role="user",
                content=text,
                business_account_id=account,
            )
        )
    at_acme = stores.conversations.recent_history(user, 10, ACME)
    assert [m.content for m in at_acme] == ["my order at Acme"]
    at_home = stores.conversations.recent_history(user, 10, NUMBER)
    assert [m.content for m in at_home] == ["my invoice at Hogar"]


def test_stop_to_one_business_does_not_silence_another(
    two_accounts, graph_api, stores, settings
) -> None:
    stub, _ = graph_api
    wa_id = "15551230002"
    post(two_accounts, payload(message(wa_id, text={"body": "STOP"}), number=ACME))
    wait_for(lambda: len(sent_to(stub, wa_id)) == 1, what="the opt-out confirmation")
    post(two_accounts, payload(message(wa_id, text={"body": "hours?"}), number=ACME))
    post(two_accounts, payload(message(wa_id, text={"body": "hours?"}), number=NUMBER))
    wait_for(lambda: len(sent_to(stub, wa_id)) == 2, what="the other business's answer")
    time.sleep(1.5)
    replies = sent_to(stub, wa_id)
    assert [r["phone_number_id"] for r in replies] == [ACME, NUMBER]
    assert stores.users.is_opted_in(wa_id, ACME) is False
    assert stores.users.is_opted_in(wa_id, NUMBER) is True
    assert Redis.from_url(settings.redis_url).get(f"wam:optin:{ACME}:{wa_id}") == b"0"


def test_each_business_has_its_own_knowledge_base(settings, stores, demo, tmp_path) -> None:
    """Acme's agents folder names its knowledge base like the demo's (`smart-home`), with its own
    opening hours: each business retrieves its own document, never the other's."""
    import shutil

    from agents import default_agents_dir, load_agents
    from app.wiring import build_deps, index_bundled_knowledge

    acme = tmp_path / "acme-agents"
    shutil.copytree(default_agents_dir(), acme)
    hours = acme / "knowledge" / "smart-home" / "hours-and-contact.md"
    hours.write_text(
        "# Opening hours\n\nAcme Robotics is open Saturday and Sunday from 07:00 to 11:00 only.\n"
    )
    acme_settings = settings.model_copy(update={"agents_dir": acme})
    redis = Redis.from_url(settings.redis_url)
    agents = load_agents(acme)
    index_bundled_knowledge(acme_settings, redis, agents)
    acme_deps = build_deps(
        acme_settings, stores=stores, redis=redis, override="offline", agents=agents
    )
    question = "What are your opening hours?"
    ref = agents["general"].config.knowledge_bases[0]
    at_acme = acme_deps.toolkit.knowledge_base(ref).retrieve(question, k=3)
    at_home = demo.toolkit.knowledge_base(ref).retrieve(question, k=3)
    assert any("Acme Robotics" in p.text for p in at_acme)
    assert not any("Acme Robotics" in p.text for p in at_home)
    assert any("Monday" in p.text for p in at_home)
