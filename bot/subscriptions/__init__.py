"""« Prévenez-moi »: a person's subscriptions (the club, the certification's sessions),
per platform, and the personal messages they bring, through the outbox."""
