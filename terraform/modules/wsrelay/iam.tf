# The functions' role: least privilege. DynamoDB item operations on this table only (no Scan,
# no dynamodb:*), posting to this API stage's @connections only, writing their log groups.

# Both roles (the functions' and the capacity provider operator's) are assumed by Lambda.
data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${var.name_prefix}-wsrelay-function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  statement {
    sid = "ItemsOfTheConnectionsTable"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
    ]
    resources = [local.table_arn]
  }

  dynamic "statement" {
    # Cutover only: the legacy Node relay's subscriptions are found through its GSI.
    for_each = var.legacy_subscriptions ? [1] : []
    content {
      sid       = "LegacySubscriptionIndex"
      actions   = ["dynamodb:Query"]
      resources = ["${local.table_arn}/index/SubscriptionIndex"]
    }
  }

  statement {
    sid       = "PostToThisStagesConnections"
    actions   = ["execute-api:ManageConnections"]
    resources = ["${aws_apigatewayv2_api.this.execution_arn}/${var.stage_name}/POST/@connections/*"]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for group in aws_cloudwatch_log_group.function : "${group.arn}:*"]
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "wsrelay"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}
