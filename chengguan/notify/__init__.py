"""In-app inbox and pluggable notifiers (SMS / WeChat gateways) for the people a case needs."""
