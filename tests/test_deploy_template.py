"""The administrators' CloudFormation template: valid, and as narrow as the app needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "galileio-desktop.yaml"
#: DynamoDB client calls (snake_case) and the IAM actions they need.
_ACTION_OF = {
    "get_item": "dynamodb:GetItem",
    "put_item": "dynamodb:PutItem",
    "update_item": "dynamodb:UpdateItem",
    "delete_item": "dynamodb:DeleteItem",
    "batch_write_item": "dynamodb:BatchWriteItem",
    "batch_get_item": "dynamodb:BatchGetItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "transact_write_items": "dynamodb:ConditionCheckItem",
    "transact_get_items": "dynamodb:GetItem",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return dict(cfn_yaml.load(str(TEMPLATE)))


def resource(template: dict[str, Any], name: str, kind: str) -> dict[str, Any]:
    found = template["Resources"][name]
    assert found["Type"] == kind
    return dict(found["Properties"])


def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    role = resource(template, "AuthenticatedRole", "AWS::IAM::Role")
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def cfn_lint_command() -> str:
    """cfn-lint from this environment (a test dependency), else from PATH."""
    beside = Path(sys.executable).with_name("cfn-lint")
    found = str(beside) if beside.exists() else shutil.which("cfn-lint")
    assert found, "cfn-lint is not installed (pip install cfn-lint)"
    return found


def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        [cfn_lint_command(), str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_table_has_the_web_apps_shape(template: dict[str, Any]) -> None:
    table = resource(template, "ChatTable", "AWS::DynamoDB::Table")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        ("PK", "S"),
        ("SK", "S"),
        ("GSI1PK", "S"),
        ("GSI1SK", "S"),
    }
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
        ("PK", "HASH"),
        ("SK", "RANGE"),
    ]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "GSI1"
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("GSI1PK", "HASH"),
        ("GSI1SK", "RANGE"),
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert template["Resources"]["ChatTable"]["DeletionPolicy"] == "Retain"


def test_sign_in_is_srp_only_without_client_secret(template: dict[str, Any]) -> None:
    client = resource(template, "DesktopClient", "AWS::Cognito::UserPoolClient")
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert client["EnableTokenRevocation"] is True
    pool = resource(template, "IdentityPool", "AWS::Cognito::IdentityPool")
    assert pool["AllowUnauthenticatedIdentities"] is False
    roles = resource(template, "IdentityPoolRoles", "AWS::Cognito::IdentityPoolRoleAttachment")
    assert set(roles["Roles"]) == {"authenticated"}


def test_sub_is_passed_as_the_principal_tag(template: dict[str, Any]) -> None:
    tag = resource(template, "UserIdPrincipalTag", "AWS::Cognito::IdentityPoolPrincipalTag")
    assert tag["PrincipalTags"] == {"userId": "sub"}
    assert tag["UseDefaults"] is False
    role = resource(template, "AuthenticatedRole", "AWS::IAM::Role")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert set(trust["Action"]) == {"sts:AssumeRoleWithWebIdentity", "sts:TagSession"}
    assert trust["Condition"]["ForAnyValue:StringLike"] == {
        "cognito-identity.amazonaws.com:amr": "authenticated"
    }


def test_every_statement_is_limited_to_the_users_partition(template: dict[str, Any]) -> None:
    found = statements(template)
    assert len(found) == 2
    for statement in found:
        assert statement["Effect"] == "Allow"
        assert not any("Scan" in a or a.endswith("*") for a in statement["Action"])
        condition = statement["Condition"]
        (operator,) = [k for k in condition if k.startswith("ForAllValues:")]
        leading = condition[operator]["dynamodb:LeadingKeys"]
        assert leading and all(v.startswith("${aws:PrincipalTag/userId}") for v in leading)
        assert condition["Null"] == {"dynamodb:LeadingKeys": "false", "aws:PrincipalTag/userId": "false"}
    table, index = found
    assert table["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"] == [
        "${aws:PrincipalTag/userId}"
    ]
    assert index["Action"] == ["dynamodb:Query"]
    assert index["Resource"] == {"Fn::Sub": "${ChatTable.Arn}/index/GSI1"}
    assert index["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == [
        "${aws:PrincipalTag/userId}#CHAT",
        "${aws:PrincipalTag/userId}#CHAT#*",
    ]


def test_role_allows_exactly_what_the_app_calls(template: dict[str, Any]) -> None:
    """Every DynamoDB call in the data layer is allowed, and nothing more is."""
    calls: set[str] = set()
    for path in (ROOT / "galileio_desktop" / "data").rglob("*.py"):
        if path.name in ("table_admin.py",) or "auth" in path.parts:
            continue
        calls |= set(re.findall(r"\bclient\.([a-z_]+)\(", path.read_text(encoding="utf-8")))
    needed = {_ACTION_OF[call] for call in calls if call in _ACTION_OF}
    assert "dynamodb:Query" in needed  # the scan above found the gateway
    allowed = {action for statement in statements(template) for action in statement["Action"]}
    assert needed <= allowed, f"the role lacks {sorted(needed - allowed)}"
    assert allowed <= needed, f"the role allows unused {sorted(allowed - needed)}"


def test_readme_explains_deploying_and_granting() -> None:
    text = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    for needle in (
        "aws cloudformation deploy",
        "set-principal-tag-attribute-map",
        "sts:TagSession",
        "What the policy enforces, and what it cannot",
        "existing Galileo deployment",
    ):
        assert needle in text
