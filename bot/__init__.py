"""intra-bot: the community assistant of the beta.gouv.fr intrapreneurs."""
