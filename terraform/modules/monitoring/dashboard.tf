# The stage dashboard: what an on-call engineer opens first. Rows: per-function Lambda metrics,
# the chaos/fault signal and the API, every alarm's state, then the error log lines.

locals {
  function_names = values(var.functions)

  lambda_widget = {
    for title, spec in {
      "Invocations"  = { metric = "Invocations", stat = "Sum" }
      "Errors"       = { metric = "Errors", stat = "Sum" }
      "Duration p99" = { metric = "Duration", stat = "p99" }
      } : title => {
      metrics = [for name in local.function_names : ["AWS/Lambda", spec.metric, "FunctionName", name]]
      stat    = spec.stat
    }
  }

  widgets = concat(
    [for i, title in ["Invocations", "Errors", "Duration p99"] : {
      type   = "metric"
      x      = i * 8
      y      = 0
      width  = 8
      height = 6
      properties = {
        title   = "Lambda ${title}"
        region  = local.region
        view    = "timeSeries"
        stacked = false
        period  = 60
        stat    = local.lambda_widget[title].stat
        metrics = local.lambda_widget[title].metrics
      }
    }],
    [
      {
        type   = "metric"
        x      = 0
        y      = 6
        width  = 8
        height = 6
        properties = {
          title   = "Faults reported by the functions (${var.alarms.fast_errors.period_s} s, the fast alarm's period)"
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = var.alarms.fast_errors.period_s
          stat    = "Sum"
          metrics = [for name in local.function_names : ["OutageLab", "Faults", "Service", name]]
        }
      },
      {
        type   = "metric"
        x      = 8
        y      = 6
        width  = 8
        height = 6
        properties = {
          title   = "API requests and 5xx"
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = 60
          stat    = "Sum"
          metrics = [
            ["AWS/ApiGateway", "Count", "ApiId", var.api_id, "Stage", var.api_stage],
            ["AWS/ApiGateway", "5xx", "ApiId", var.api_id, "Stage", var.api_stage],
            ["AWS/ApiGateway", "4xx", "ApiId", var.api_id, "Stage", var.api_stage],
          ]
        }
      },
      {
        type   = "metric"
        x      = 16
        y      = 6
        width  = 8
        height = 6
        properties = {
          title   = "API latency (ms)"
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = 60
          metrics = [
            ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, "Stage", var.api_stage, { stat = "p50", label = "Latency p50" }],
            ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, "Stage", var.api_stage, { stat = "p99", label = "Latency p99" }],
            ["AWS/ApiGateway", "IntegrationLatency", "ApiId", var.api_id, "Stage", var.api_stage, { stat = "p99", label = "IntegrationLatency p99" }],
          ]
        }
      },
      {
        type   = "alarm"
        x      = 0
        y      = 12
        width  = 24
        height = 4
        properties = {
          title  = "Alarms of ${var.stage}"
          alarms = [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]
        }
      },
      {
        type   = "log"
        x      = 0
        y      = 16
        width  = 24
        height = 8
        properties = {
          title  = "Function errors, injected faults and timeouts"
          region = local.region
          view   = "table"
          query  = "${join(" | ", [for group in var.log_group_names : "SOURCE '${group}'"])} | fields @timestamp, @log, @requestId, @message | filter level = 'ERROR' or @message like /fault_injected|Task timed out|Runtime\\.\\w+Error/ | sort @timestamp desc | limit 100"
        }
      },
    ],
  )
}
