from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import verify_password


def test_create_admin_asks_for_the_password(app, session):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "Root@Example.com"], input="a strong admin password\na strong admin password\n"
    )
    assert result.exit_code == 0, result.output
    admin = session.query(User).filter_by(email="root@example.com").one()
    assert admin.role == Role.ADMIN and admin.org_id is None
    assert verify_password(admin.password_hash, "a strong admin password")


def test_create_admin_refuses_a_short_password(app, session):
    result = app.test_cli_runner().invoke(args=["create-admin", "root@example.com"], input="short\nshort\n")
    assert result.exit_code != 0
    assert "12 characters" in result.output
    assert session.query(User).filter_by(email="root@example.com").count() == 0


def test_create_admin_refuses_a_taken_email(app, session):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-admin", "root@example.com"], input="a strong admin password\n" * 2)
    again = runner.invoke(args=["create-admin", "root@example.com"], input="a strong admin password\n" * 2)
    assert again.exit_code == 1
    assert "already exists" in again.output
