# The connections table: the legacy Node relay's schema (hash key connectionId, TTL attribute ttl).
# wsrelay keeps one item per guid on it (docs/storage.md). Adopt the legacy table with
# create_table = false.

resource "aws_dynamodb_table" "connections" {
  count = var.create_table ? 1 : 0

  name         = local.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "connectionId"

  attribute {
    name = "connectionId"
    type = "S"
  }

  dynamic "attribute" {
    for_each = var.table_legacy_index ? [1] : []
    content {
      name = "subscription"
      type = "S"
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.table_legacy_index ? [1] : []
    content {
      name            = "SubscriptionIndex"
      hash_key        = "subscription"
      projection_type = "KEYS_ONLY"
    }
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.table_point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.table_kms_key_arn
  }

  tags = var.tags
}

data "aws_dynamodb_table" "existing" {
  count = var.create_table ? 0 : 1
  name  = local.table_name
}
