"""Single sign-on through an organisation's OpenID Connect provider, and SCIM provisioning of its users."""
