# The monitoring module with a mocked AWS provider: each alarm watches the metric
# crates/config names, with the stage file's maths and both actions to the encrypted topic.

mock_provider "aws" {
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:dev-alarms" }
  }
  mock_data "aws_kms_alias" {
    defaults = { target_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/mock" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mock" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  stage           = "dev"
  functions       = { payment = "dev-payment", auth = "dev-auth" }
  log_group_names = ["/aws/lambda/dev-payment", "/aws/lambda/dev-auth"]
  api_id          = "abc123"
  alarm_emails    = ["oncall@example.com"]
  alarms = {
    fast_errors  = { period_s = 10, evaluation_periods = 1, datapoints_to_alarm = 1, threshold = 1, treat_missing_data = "notBreaching" }
    errors       = { period_s = 60, evaluation_periods = 1, datapoints_to_alarm = 1, threshold = 2, treat_missing_data = "notBreaching" }
    duration_p99 = { period_s = 60, evaluation_periods = 3, datapoints_to_alarm = 2, threshold_ms = 1000, treat_missing_data = "missing" }
    throttles    = { period_s = 60, evaluation_periods = 1, datapoints_to_alarm = 1, threshold = 1, treat_missing_data = "notBreaching" }
    api_5xx      = { period_s = 60, evaluation_periods = 1, datapoints_to_alarm = 1, threshold = 5, treat_missing_data = "breaching" }
  }
}

run "alarms_watch_the_metrics_of_the_contract" {
  command = apply

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 9
    error_message = "Two functions make eight function alarms plus the API alarm."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["payment-fast-errors"].alarm_name == "dev-payment-fast-errors" &&
      aws_cloudwatch_metric_alarm.this["payment-fast-errors"].namespace == "OutageLab" &&
      aws_cloudwatch_metric_alarm.this["payment-fast-errors"].metric_name == "Faults" &&
      aws_cloudwatch_metric_alarm.this["payment-fast-errors"].dimensions == tomap({ Service = "dev-payment" }) &&
      aws_cloudwatch_metric_alarm.this["payment-fast-errors"].period == 10 &&
      aws_cloudwatch_metric_alarm.this["payment-fast-errors"].statistic == "Sum"
    )
    error_message = "fast-errors watches OutageLab Faults (Service = function name), Sum over 10 s."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["auth-duration-p99"].extended_statistic == "p99" &&
      aws_cloudwatch_metric_alarm.this["auth-duration-p99"].statistic == null &&
      aws_cloudwatch_metric_alarm.this["auth-duration-p99"].threshold == 1000 &&
      aws_cloudwatch_metric_alarm.this["auth-duration-p99"].evaluation_periods == 3 &&
      aws_cloudwatch_metric_alarm.this["auth-duration-p99"].datapoints_to_alarm == 2 &&
      aws_cloudwatch_metric_alarm.this["auth-duration-p99"].treat_missing_data == "missing"
    )
    error_message = "duration-p99 is the p99 extended statistic against threshold_ms, 2 of 3."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["api-5xx"].alarm_name == "dev-api-5xx" &&
      aws_cloudwatch_metric_alarm.this["api-5xx"].dimensions == tomap({ ApiId = "abc123", Stage = "$default" }) &&
      aws_cloudwatch_metric_alarm.this["api-5xx"].threshold == 5 &&
      aws_cloudwatch_metric_alarm.this["api-5xx"].treat_missing_data == "breaching"
    )
    error_message = "api-5xx watches AWS/ApiGateway 5xx of the API's $default stage."
  }

  assert {
    condition = alltrue([
      for a in aws_cloudwatch_metric_alarm.this :
      a.comparison_operator == "GreaterThanOrEqualToThreshold" &&
      a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:dev-alarms"]) &&
      a.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:dev-alarms"])
    ])
    error_message = "Every alarm is >= threshold with alarm and OK actions to the topic."
  }
}

run "descriptions_end_with_the_repository_relative_runbook_without_a_base_url" {
  command = apply

  assert {
    condition = alltrue([
      for key, a in aws_cloudwatch_metric_alarm.this :
      endswith(a.alarm_description, ". Runbook: docs/runbooks/${trimprefix(trimprefix(key, "payment-"), "auth-")}.md")
    ])
    error_message = "Every alarm description must end with the runbook of its kind, docs/runbooks/<kind>.md."
  }

  # The text of crates/config's AlarmDefinition.description, character for character.
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["payment-fast-errors"].alarm_description == "OutageLab Faults Sum >= 1 for function dev-payment (1 of 1 x 10 s). Runbook: docs/runbooks/fast-errors.md" &&
      aws_cloudwatch_metric_alarm.this["auth-duration-p99"].alarm_description == "AWS/Lambda Duration p99 >= 1000 for function dev-auth (2 of 3 x 60 s). Runbook: docs/runbooks/duration-p99.md" &&
      aws_cloudwatch_metric_alarm.this["api-5xx"].alarm_description == "AWS/ApiGateway 5xx Sum >= 5 for HTTP API abc123 (1 of 1 x 60 s). Runbook: docs/runbooks/api-5xx.md"
    )
    error_message = "Alarm descriptions must be crates/config's text: <namespace> <metric> <statistic> >= <threshold> for <subject> (<M> of <N> x <period> s). Runbook: <url>."
  }

  assert {
    condition     = endswith(aws_cloudwatch_composite_alarm.service_health[0].alarm_description, "all runbooks: docs/runbooks/README.md")
    error_message = "The composite alarm links the runbooks' index."
  }
}

run "descriptions_end_with_the_published_runbook_with_a_base_url" {
  command = apply

  variables {
    runbook_base_url = "https://github.com/acme/outage-lab/blob/main/docs/runbooks"
  }

  assert {
    condition = (
      endswith(aws_cloudwatch_metric_alarm.this["payment-errors"].alarm_description, ". Runbook: https://github.com/acme/outage-lab/blob/main/docs/runbooks/errors.md") &&
      endswith(aws_cloudwatch_metric_alarm.this["auth-throttles"].alarm_description, ". Runbook: https://github.com/acme/outage-lab/blob/main/docs/runbooks/throttles.md") &&
      endswith(aws_cloudwatch_metric_alarm.this["api-5xx"].alarm_description, ". Runbook: https://github.com/acme/outage-lab/blob/main/docs/runbooks/api-5xx.md")
    )
    error_message = "With runbook_base_url every description ends with <runbook_base_url>/<kind>.md."
  }

  assert {
    condition     = endswith(aws_cloudwatch_composite_alarm.service_health[0].alarm_description, "all runbooks: https://github.com/acme/outage-lab/blob/main/docs/runbooks/README.md")
    error_message = "The composite alarm links the published runbooks' index."
  }
}

run "rejects_a_runbook_base_url_with_a_trailing_slash" {
  command = plan

  variables {
    runbook_base_url = "https://github.com/acme/outage-lab/blob/main/docs/runbooks/"
  }

  expect_failures = [var.runbook_base_url]
}

run "rejects_a_runbook_base_url_with_a_query" {
  command = plan

  variables {
    runbook_base_url = "https://example.com/runbooks?ref=main"
  }

  expect_failures = [var.runbook_base_url]
}

run "topic_is_encrypted_with_the_bootstraps_key_of_the_stage" {
  command = apply

  assert {
    condition     = data.aws_kms_alias.alarms.name == "alias/dev-alarms"
    error_message = "The stage looks its topic key up by the alias the bootstrap gives it (alias/dev-alarms)."
  }

  assert {
    condition     = aws_sns_topic.this.name == "dev-alarms" && aws_sns_topic.this.kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/mock"
    error_message = "The topic dev-alarms is encrypted with the key behind alias/dev-alarms."
  }
}

# A function deployed broken on purpose fails on every request: its alarms notify a topic with
# no subscription and stay out of the composite alarm, so it never pages anyone.
run "a_function_broken_on_purpose_pages_nobody" {
  command = apply

  variables {
    known_broken = ["payment"]
  }

  override_resource {
    target = aws_sns_topic.known_broken
    values = { arn = "arn:aws:sns:eu-west-1:123456789012:dev-known-broken" }
  }

  assert {
    condition     = aws_sns_topic.known_broken[0].name == "dev-known-broken" && length([for s in aws_sns_topic_subscription.email : s if s.topic_arn == aws_sns_topic.known_broken[0].arn]) == 0
    error_message = "The deliberately broken functions' alarms get the topic dev-known-broken, which nobody subscribes to."
  }

  assert {
    condition = alltrue([
      for key, a in aws_cloudwatch_metric_alarm.this :
      a.alarm_actions == toset([startswith(key, "payment-") ? aws_sns_topic.known_broken[0].arn : aws_sns_topic.this.arn])
    ])
    error_message = "payment's alarms notify dev-known-broken; auth's and the API's notify dev-alarms."
  }

  assert {
    condition     = !strcontains(aws_cloudwatch_composite_alarm.service_health[0].alarm_rule, "dev-payment-") && strcontains(aws_cloudwatch_composite_alarm.service_health[0].alarm_rule, "ALARM(\"dev-auth-errors\")")
    error_message = "The composite alarm leaves out the deliberately broken function's alarms."
  }
}

run "the_api_5xx_alarm_leaves_out_the_routes_broken_on_purpose" {
  command = apply

  variables {
    known_broken        = ["payment"]
    known_broken_routes = ["GET /pay"]
  }

  override_resource {
    target = aws_sns_topic.known_broken
    values = { arn = "arn:aws:sns:eu-west-1:123456789012:dev-known-broken" }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["api-5xx"].metric_name == null &&
      length(aws_cloudwatch_metric_alarm.this["api-5xx"].metric_query) == 3 &&
      one([for q in aws_cloudwatch_metric_alarm.this["api-5xx"].metric_query : q.expression if q.id == "e1" && q.return_data == true]) == "m0 - FILL(m1, 0)" &&
      one([for q in aws_cloudwatch_metric_alarm.this["api-5xx"].metric_query : q.metric[0].dimensions if q.id == "m1"]) == tomap({ ApiId = "abc123", Stage = "$default", Method = "GET", Resource = "/pay" }) &&
      one([for q in aws_cloudwatch_metric_alarm.this["api-5xx"].metric_query : q.metric[0].dimensions if q.id == "m0"]) == tomap({ ApiId = "abc123", Stage = "$default" })
    )
    error_message = "api-5xx is the metric math m0 - FILL(m1, 0): the API's 5xx minus GET /pay's, from the per-route metrics."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["api-5xx"].alarm_description == "AWS/ApiGateway 5xx Sum >= 5 for HTTP API abc123 without GET /pay (broken on purpose) (1 of 1 x 60 s). Runbook: docs/runbooks/api-5xx.md"
    error_message = "The description names the route left out, as crates/config writes it."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["payment-errors"].metric_name == "Errors" && length(aws_cloudwatch_metric_alarm.this["payment-errors"].metric_query) == 0
    error_message = "The other alarms watch a plain metric."
  }
}

run "known_broken_names_functions_of_the_stage" {
  command = plan

  variables {
    known_broken = ["checkout"]
  }

  expect_failures = [var.known_broken]
}

run "dashboard_has_alarm_status_and_error_log_widgets" {
  command = apply

  assert {
    condition = (
      length([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w if w.type == "alarm"]) == 1 &&
      strcontains(one([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.query if w.type == "log"]), "SOURCE '/aws/lambda/dev-payment'")
    )
    error_message = "The dashboard needs one alarm status widget and a Logs Insights widget over the function logs."
  }
}

run "rejects_duration_with_a_plain_threshold" {
  command = plan

  variables {
    alarms = merge(var.alarms, { duration_p99 = { period_s = 60, evaluation_periods = 3, datapoints_to_alarm = 2, threshold = 1000, treat_missing_data = "missing" } })
  }

  expect_failures = [var.alarms]
}

run "each_function_has_its_own_alarms_for_release_gates" {
  command = apply

  assert {
    condition = jsonencode(output.function_alarm_names) == jsonencode({
      auth    = ["dev-auth-duration-p99", "dev-auth-errors", "dev-auth-fast-errors", "dev-auth-throttles"]
      payment = ["dev-payment-duration-p99", "dev-payment-errors", "dev-payment-fast-errors", "dev-payment-throttles"]
    })
    error_message = "function_alarm_names maps each function to exactly its own four alarms (never the API's): ${jsonencode(output.function_alarm_names)}"
  }
}
