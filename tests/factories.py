"""factory_boy factories for the domain models."""

from __future__ import annotations

import factory

from campaigns.models import Account, Campaign, Contact, Message, MessagePart, OptOut, RecipientList


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")
    system_id = factory.Sequence(lambda n: f"sys{n}")
    smpp_password = "s3cretpw"
    mm4_api_key = "k3y-secret"
    smpp_host = "127.0.0.1"


class RecipientListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecipientList

    name = factory.Sequence(lambda n: f"List {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    recipient_list = factory.SubFactory(RecipientListFactory)
    phone = factory.Sequence(lambda n: f"+4479111{n % 100000:05d}")
    first_name = "Alex"


class OptOutFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OptOut

    phone = factory.Sequence(lambda n: f"+4479112{n % 100000:05d}")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    account = factory.SubFactory(AccountFactory)
    body = "Hello {{ first_name }}"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    campaign = factory.SubFactory(CampaignFactory)
    phone = factory.Sequence(lambda n: f"+4474001{n % 100000:05d}")
    body = "Hello"


class MessagePartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessagePart

    message = factory.SubFactory(MessageFactory)
    account = factory.LazyAttribute(lambda o: o.message.campaign.account)
    index = 1
