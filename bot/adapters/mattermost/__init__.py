"""The Mattermost adapter: REST facade, websocket, HTTP routes, setup."""
