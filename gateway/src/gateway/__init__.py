"""The PostLoan API gateway: authentication, authorisation, routing and one OpenAPI document."""
