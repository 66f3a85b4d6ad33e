# Alarms, their SNS topic and the stage dashboard. Names and metric definitions follow
# crates/config (Stage::alarm_definitions); scripts/checks/30-terraform compares the two.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # What each per-function kind watches; `dimension` is the dimension naming the function.
  function_kinds = {
    fast_errors  = { namespace = "OutageLab", metric = "Faults", dimension = "Service", statistic = "Sum" }
    errors       = { namespace = "AWS/Lambda", metric = "Errors", dimension = "FunctionName", statistic = "Sum" }
    duration_p99 = { namespace = "AWS/Lambda", metric = "Duration", dimension = "FunctionName", statistic = "p99" }
    throttles    = { namespace = "AWS/Lambda", metric = "Throttles", dimension = "FunctionName", statistic = "Sum" }
  }

  function_alarms = {
    for pair in setproduct(keys(var.functions), keys(local.function_kinds)) :
    "${pair[0]}-${replace(pair[1], "_", "-")}" => {
      kind       = pair[1]
      namespace  = local.function_kinds[pair[1]].namespace
      metric     = local.function_kinds[pair[1]].metric
      dimensions = { (local.function_kinds[pair[1]].dimension) = var.functions[pair[0]] }
      statistic  = local.function_kinds[pair[1]].statistic
      subject    = "function ${var.functions[pair[0]]}"
      function   = pair[0]
      minus      = []
      without    = ""
    }
  }

  # Routes of functions deployed broken on purpose, as the API's detailed metrics name them
  # (Method, Resource); a `$default` route has neither and cannot be left out.
  left_out_routes = [for route in var.known_broken_routes : route if length(split(" ", route)) == 2]

  api_alarms = {
    "api-5xx" = {
      kind       = "api_5xx"
      namespace  = "AWS/ApiGateway"
      metric     = "5xx"
      dimensions = { ApiId = var.api_id, Stage = var.api_stage }
      statistic  = "Sum"
      subject    = "HTTP API ${var.api_id}"
      function   = null
      # Metric math m0 - FILL(m1, 0) - ...: the broken routes' 5xx would page on every call.
      minus = [for route in local.left_out_routes : {
        ApiId    = var.api_id
        Stage    = var.api_stage
        Method   = split(" ", route)[0]
        Resource = split(" ", route)[1]
      }]
      without = length(local.left_out_routes) > 0 ? " without ${join(", ", local.left_out_routes)} (broken on purpose)" : ""
    }
  }

  # The runbooks (docs/runbooks): one <kind>.md per alarm kind, README.md the index.
  runbook_base      = coalesce(var.runbook_base_url, "docs/runbooks")
  runbook_index_url = "${local.runbook_base}/README.md"

  # Alarm key (name without the stage prefix) to its full definition.
  all_alarms_maths = {
    for key, alarm in merge(local.function_alarms, local.api_alarms) :
    key => merge(alarm, var.alarms[alarm.kind], {
      name      = "${var.stage}-${key}"
      threshold = coalesce(var.alarms[alarm.kind].threshold, var.alarms[alarm.kind].threshold_ms)
      runbook   = "${local.runbook_base}/${replace(alarm.kind, "_", "-")}.md"
    })
  }

  # The description is crates/config's AlarmDefinition.description, character for character
  # (scripts/tf-local-apply compares them): the SNS e-mail carries it, runbook link last.
  all_alarms = {
    for key, a in local.all_alarms_maths :
    key => merge(a, {
      description = "${a.namespace} ${a.metric} ${a.statistic} >= ${a.threshold} for ${a.subject}${a.without} (${a.datapoints_to_alarm} of ${a.evaluation_periods} x ${a.period_s} s). Runbook: ${a.runbook}"
    })
  }

  alarm_name_prefix = "${var.stage}-"
}

# A customer managed key: CloudWatch cannot publish to a topic encrypted with the AWS managed
# alias/aws/sns key (its policy cannot be changed), so alarms would be dropped silently. The key
# is the bootstrap's (terraform/bootstrap), found by its alias: the stage's deploy role may not
# create or manage keys.
data "aws_kms_alias" "alarms" {
  name = "alias/${var.stage}-alarms"
}

resource "aws_sns_topic" "this" {
  name              = "${var.stage}-alarms"
  kms_master_key_id = data.aws_kms_alias.alarms.target_key_arn
  tags              = var.tags
}

# The alarms of a function deployed broken on purpose (the stage file sets its fault) notify a
# topic nobody subscribes to: they show on the dashboard and in the history, and never page.
resource "aws_sns_topic" "known_broken" {
  count = length(var.known_broken) > 0 ? 1 : 0

  name              = "${var.stage}-known-broken"
  kms_master_key_id = data.aws_kms_alias.alarms.target_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.all_alarms

  alarm_name        = each.value.name
  alarm_description = each.value.description
  # A plain metric, or (with series to leave out) the metric math below instead.
  namespace           = length(each.value.minus) == 0 ? each.value.namespace : null
  metric_name         = length(each.value.minus) == 0 ? each.value.metric : null
  dimensions          = length(each.value.minus) == 0 ? each.value.dimensions : null
  statistic           = length(each.value.minus) == 0 && each.value.statistic == "Sum" ? "Sum" : null
  extended_statistic  = length(each.value.minus) == 0 && each.value.statistic != "Sum" ? each.value.statistic : null
  period              = length(each.value.minus) == 0 ? each.value.period_s : null
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints_to_alarm
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = each.value.treat_missing_data
  alarm_actions       = [contains(var.known_broken, coalesce(each.value.function, "-")) ? aws_sns_topic.known_broken[0].arn : aws_sns_topic.this.arn]
  ok_actions          = [contains(var.known_broken, coalesce(each.value.function, "-")) ? aws_sns_topic.known_broken[0].arn : aws_sns_topic.this.arn]
  tags                = var.tags

  dynamic "metric_query" {
    for_each = length(each.value.minus) == 0 ? [] : [1]
    content {
      id          = "e1"
      expression  = join(" - ", concat(["m0"], [for i, _ in each.value.minus : "FILL(m${i + 1}, 0)"]))
      label       = "${each.value.metric}${each.value.without}"
      return_data = true
    }
  }

  dynamic "metric_query" {
    for_each = length(each.value.minus) == 0 ? [] : concat([each.value.dimensions], each.value.minus)
    content {
      id = "m${metric_query.key}"
      metric {
        namespace   = each.value.namespace
        metric_name = each.value.metric
        dimensions  = metric_query.value
        period      = each.value.period_s
        stat        = each.value.statistic
      }
    }
  }
}

resource "aws_cloudwatch_composite_alarm" "service_health" {
  count = var.enable_composite_alarm ? 1 : 0

  alarm_name        = "${var.stage}-service-health"
  alarm_description = "In ALARM while any alarm of stage ${var.stage} that pages is: one page per incident instead of one per symptom. The alarm in ALARM names its runbook; all runbooks: ${local.runbook_index_url}"
  # Without the alarms of a function broken on purpose: they would keep it in ALARM for good.
  alarm_rule = join(" OR ", [
    for key, alarm in aws_cloudwatch_metric_alarm.this : "ALARM(\"${alarm.alarm_name}\")"
    if !contains(var.known_broken, coalesce(local.all_alarms[key].function, "-"))
  ])
  alarm_actions = [aws_sns_topic.this.arn]
  ok_actions    = [aws_sns_topic.this.arn]
  tags          = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.stage}-outage-lab"
  dashboard_body = jsonencode({ widgets = local.widgets })
}
