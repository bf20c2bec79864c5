"""The club: agenda, reminders posted exactly once, the `/intra club` reply."""
