#!/usr/bin/env python3
"""Compares what an AWS API (the local moto server) holds with what a stage file says.

`deployed`: after `terraform apply`, every function (with its published version and the alias
`live` the API invokes), route, integration, permission, alarm (description and runbook link
included), topic and the dashboard exist exactly as the stage file and crates/config (the
`resolve` example: the names and alarm definitions the lab uses) say, and nothing else exists.
`lab`: the local lab (`outage-lab up`) serving the same stage file holds the same functions
(name, memory, timeout, reserved concurrency, FAULT_* variables) and alarms (metric, dimensions,
maths, with the lab's own API id) as the emulator, and its gateway serves exactly the routes the
emulator's API has.
`destroyed`: after `terraform destroy`, nothing of the stage is left.

Exit status 1 with one line per mismatch; 0 with a summary when everything agrees.
"""

import argparse
import urllib.error
import urllib.request
import hashlib
import base64
import json
import os
import sys

import boto3

problems = []


def expect(condition, message):
    if not condition:
        problems.append(message)
    return condition


def same(what, actual, wanted):
    return expect(actual == wanted, f"{what}: is {actual!r}, the stage file says {wanted!r}")


def client(service, args):
    return boto3.client(service, endpoint_url=args.endpoint, region_name=args.region)


def paged(c, operation, key, **kwargs):
    out = []
    for page in c.get_paginator(operation).paginate(**kwargs):
        out.extend(page[key])
    return out


def package_sha256(args, code):
    with open(os.path.join(args.packages, code, "bootstrap.zip"), "rb") as f:
        return base64.b64encode(hashlib.sha256(f.read()).digest()).decode()


LIVE = "live"  # crates/config's LIVE_ALIAS: what the API invokes and releases move


def check_functions(args, stage, resolved):
    lam, logs, iam = client("lambda", args), client("logs", args), client("iam", args)
    deployed = {f["FunctionName"]: f for f in paged(lam, "list_functions", "Functions")}
    wanted = {spec["function_name"]: (key, spec) for key, spec in resolved["functions"].items()}
    same("deployed functions", sorted(deployed), sorted(wanted))
    groups = {g["logGroupName"]: g for g in paged(logs, "describe_log_groups", "logGroups")}

    for name, (key, spec) in wanted.items():
        if name not in deployed:
            continue
        conf = lam.get_function_configuration(FunctionName=name)
        at = f"function {name}"
        same(f"{at} runtime", conf["Runtime"], "provided.al2023")
        same(f"{at} architectures", conf.get("Architectures"), ["arm64"])
        same(f"{at} handler", conf["Handler"], "bootstrap")
        same(f"{at} memory", conf["MemorySize"], spec["memory_mb"])
        same(f"{at} timeout", conf["Timeout"], spec["timeout_s"])
        same(f"{at} environment", conf.get("Environment", {}).get("Variables", {}), spec["fault_vars"])
        same(f"{at} code (sha256 of {spec['code']}/bootstrap.zip)", conf["CodeSha256"], package_sha256(args, spec["code"]))
        same(f"{at} tracing", conf.get("TracingConfig", {}).get("Mode"), "Active" if stage.get("tracing_enabled") else "PassThrough")
        # moto accepts LoggingConfig but does not return it (so the state after apply lacks it
        # too); then the plan that was applied must hold it.
        logging = conf.get("LoggingConfig") or planned_logging_config(args, name)
        same(f"{at} log format", logging.get("LogFormat"), "JSON")
        same(f"{at} log group", logging.get("LogGroup"), spec["log_group"])
        tags = lam.list_tags(Resource=conf["FunctionArn"]).get("Tags", {})
        same(f"{at} default tags", {k: tags.get(k) for k in ("stage", "project", "managed-by")},
             {"stage": stage["stage"], "project": "outage-lab", "managed-by": "terraform"})
        concurrency = lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
        same(f"{at} reserved concurrency", concurrency, spec["reserved_concurrency"])
        # The API serves `live`, which the apply created on the version it published.
        versions = [v["Version"] for v in paged(lam, "list_versions_by_function", "Versions", FunctionName=name)]
        aliases = {a["Name"]: a for a in paged(lam, "list_aliases", "Aliases", FunctionName=name)}
        same(f"{at} aliases", sorted(aliases), [LIVE])
        if LIVE in aliases:
            live = aliases[LIVE]["FunctionVersion"]
            expect(live != "$LATEST" and live in versions,
                   f"{at}: alias {LIVE} points at {live!r}, not at a published version ({versions})")

        group = groups.get(spec["log_group"])
        if expect(group is not None, f"{at}: log group {spec['log_group']} is missing"):
            same(f"log group {spec['log_group']} retention", group.get("retentionInDays"), stage["log_retention_days"])
            check_role(iam, conf["Role"].split("/")[-1], group["arn"], stage.get("tracing_enabled"), at)


def planned_resources(args):
    """Every resource of the applied plan (`terraform show -json <plan>`), child modules included."""
    with open(args.plan) as f:
        plan = json.load(f)
    modules = [plan.get("planned_values", {}).get("root_module", {})]
    while modules:
        module = modules.pop()
        yield from module.get("resources", [])
        modules.extend(module.get("child_modules", []))


def planned_logging_config(args, function_name):
    for r in planned_resources(args):
        if r["type"] == "aws_lambda_function" and r["values"]["function_name"] == function_name:
            config = (r["values"].get("logging_config") or [{}])[0]
            return {"LogFormat": config.get("log_format"), "LogGroup": config.get("log_group")}
    return {}


def check_role(iam, role, group_arn, tracing, at):
    """The role may write to its own log group only; X-Ray only where tracing is on."""
    group_arn = group_arn.removesuffix(":*")
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    same(f"{at} role {role} managed policies", attached, [])
    statements = []
    for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        statements.extend(document["Statement"])
    grants = {}
    for s in statements:
        expect(s["Effect"] == "Allow", f"{at} role {role}: unexpected {s['Effect']} statement")
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        for action in actions:
            grants.setdefault(action, set()).update(resources)
    wanted = {
        "logs:CreateLogStream": {f"{group_arn}:*"},
        "logs:PutLogEvents": {f"{group_arn}:*"},
    }
    if tracing:
        wanted["xray:PutTraceSegments"] = {"*"}
        wanted["xray:PutTelemetryRecords"] = {"*"}
    same(f"{at} role {role} grants", grants, wanted)


def check_api(args, stage, resolved):
    api_client = client("apigatewayv2", args)
    lam = client("lambda", args)
    apis = api_client.get_apis()["Items"]
    same("HTTP APIs", sorted(a["Name"] for a in apis), [resolved["api_name"]])
    api = next((a for a in apis if a["Name"] == resolved["api_name"]), None)
    if api is None:
        return None
    same("API protocol", api["ProtocolType"], "HTTP")
    api_id = api["ApiId"]

    stages = api_client.get_stages(ApiId=api_id)["Items"]
    same("API stages", [s["StageName"] for s in stages], ["$default"])
    if stages:
        s = stages[0]
        same("API $default auto-deploy", s.get("AutoDeploy"), True)
        throttle = s.get("DefaultRouteSettings", {})
        same("API throttling rate", throttle.get("ThrottlingRateLimit"), float(stage["api_throttle"]["rate_limit"]))
        same("API throttling burst", throttle.get("ThrottlingBurstLimit"), stage["api_throttle"]["burst_limit"])
        access = s.get("AccessLogSettings", {})
        expect(":log-group:/aws/vendedlogs/apigateway/" in access.get("DestinationArn", ""), f"API access logs go to {access.get('DestinationArn')!r}")
        try:
            json.loads(access.get("Format", ""))
        except ValueError:
            problems.append(f"API access log format is not JSON: {access.get('Format')!r}")

    integrations = {i["IntegrationId"]: i for i in api_client.get_integrations(ApiId=api_id)["Items"]}
    routes = {r["RouteKey"]: r for r in api_client.get_routes(ApiId=api_id)["Items"]}
    same("API routes", sorted(routes), sorted(resolved["routes"]))
    for route_key, function_key in resolved["routes"].items():
        route = routes.get(route_key)
        if route is None:
            continue
        function_name = resolved["functions"][function_key]["function_name"]
        integration = integrations.get(route.get("Target", "").removeprefix("integrations/"))
        if not expect(integration is not None, f"route {route_key}: target {route.get('Target')!r} is no integration of the API"):
            continue
        same(f"route {route_key} integration type", integration["IntegrationType"], "AWS_PROXY")
        same(f"route {route_key} payload format", integration.get("PayloadFormatVersion"), "2.0")
        uri = integration["IntegrationUri"]
        expect(f":function:{function_name}:{LIVE}/" in uri or uri.endswith(f":function:{function_name}:{LIVE}"),
               f"route {route_key}: integration invokes {uri!r}, not the alias {function_name}:{LIVE}")

    # Each function may be invoked by exactly the routes that name it, each scoped to its ARN,
    # through its alias: every permission is on `live` (its Resource the alias ARN), none on the
    # function itself ($LATEST). (moto answers GetPolicy alike with and without the qualifier.)
    for key, spec in resolved["functions"].items():
        method_paths = sorted(
            ("*" if r.split(" ", 1)[0] == "ANY" else r.split(" ", 1)[0]) + r.split(" ", 1)[1]
            for r, target in resolved["routes"].items() if target == key
        )
        try:
            policy = json.loads(lam.get_policy(FunctionName=spec["function_name"], Qualifier=LIVE)["Policy"])
            statements = policy["Statement"]
        except lam.exceptions.ResourceNotFoundException:
            statements = []
        source_arns = []
        for s in statements:
            same(f"{spec['function_name']} permission principal", s.get("Principal"), {"Service": "apigateway.amazonaws.com"})
            expect(str(s.get("Resource", "")).endswith(f":function:{spec['function_name']}:{LIVE}"),
                   f"{spec['function_name']} permission {s.get('Sid')} is on {s.get('Resource')!r}, not on the alias {LIVE}")
            source_arns.append(s.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn", ""))
        prefix = f":{api_id}/*/"
        granted = sorted(arn.split(prefix, 1)[1] if prefix in arn else arn for arn in source_arns)
        same(f"{spec['function_name']}:{LIVE} invoke permissions (method/path on API {api_id})", granted, method_paths)
    return api_id


def watched(a):
    """What a described alarm watches, as one shape for a plain metric alarm and a metric-math
    one (`Metrics`: an expression `m0 - FILL(m1, 0) - ...` over one metric with several dimension
    sets): namespace, metric, dimensions, statistic, period, and the dimension sets subtracted."""
    if "Metrics" not in a or not a["Metrics"]:
        return {
            "namespace": a.get("Namespace"), "metric_name": a.get("MetricName"),
            "dimensions": {d["Name"]: d["Value"] for d in a.get("Dimensions", [])},
            "statistic": a.get("Statistic") or a.get("ExtendedStatistic"), "period": a.get("Period"),
            "minus": [],
        }
    queries = {q["Id"]: q for q in a["Metrics"]}
    returned = [q for q in a["Metrics"] if q.get("ReturnData")]
    stats = {i: q["MetricStat"] for i, q in queries.items() if "MetricStat" in q}
    main = stats.get("m0", {})
    ids = [f"m{n}" for n in range(1, len(stats))]
    expected = " - ".join(["m0"] + [f"FILL({i}, 0)" for i in ids])
    expect(len(returned) == 1 and returned[0].get("Expression") == expected,
           f"alarm {a['AlarmName']}: returns {[q.get('Expression') for q in returned]!r}, not {expected!r}")
    dims = lambda st: {d["Name"]: d["Value"] for d in st.get("Metric", {}).get("Dimensions", [])}
    return {
        "namespace": main.get("Metric", {}).get("Namespace"), "metric_name": main.get("Metric", {}).get("MetricName"),
        "dimensions": dims(main), "statistic": main.get("Stat"), "period": main.get("Period"),
        "minus": [dims(stats[i]) for i in ids if i in stats],
    }


def check_alarms(args, stage, resolved, topics):
    cw = client("cloudwatch", args)
    alarms = {a["AlarmName"]: a for a in paged(cw, "describe_alarms", "MetricAlarms")}
    wanted = {a["name"]: a for a in resolved["alarms"]}
    same("metric alarms", sorted(alarms), sorted(wanted))
    for name, want in wanted.items():
        have = alarms.get(name)
        if have is None:
            continue
        at = f"alarm {name}"
        w = watched(have)
        same(f"{at} namespace", w["namespace"], want["namespace"])
        same(f"{at} metric", w["metric_name"], want["metric_name"])
        same(f"{at} dimensions", w["dimensions"], want["dimensions"])
        # The routes broken on purpose, left out of the API's 5xx by metric math.
        same(f"{at} series subtracted", w["minus"], want.get("minus", []))
        stat = want["statistic"]
        if w["minus"]:
            same(f"{at} statistic", w["statistic"], "Sum")
        elif stat == "Sum":
            same(f"{at} statistic", (have.get("Statistic"), have.get("ExtendedStatistic")), ("Sum", None))
        else:
            same(f"{at} statistic", (have.get("Statistic"), have.get("ExtendedStatistic")), (None, stat["Percentile"]))
        same(f"{at} period", w["period"], want["period_s"])
        same(f"{at} evaluation periods", have["EvaluationPeriods"], want["evaluation_periods"])
        same(f"{at} datapoints to alarm", have.get("DatapointsToAlarm"), want["datapoints_to_alarm"])
        same(f"{at} threshold", have["Threshold"], want["threshold"])
        same(f"{at} comparison", have["ComparisonOperator"], want["comparison_operator"])
        same(f"{at} treat missing data", have.get("TreatMissingData"), want["treat_missing_data"])
        # The text the SNS e-mail carries, runbook link last: the lab shows the same one.
        same(f"{at} description", have.get("AlarmDescription"), want["description"])
        same(f"{at} alarm actions", have.get("AlarmActions"), [topics.get(want["topic"])])
        same(f"{at} OK actions", have.get("OKActions"), [topics.get(want["topic"])])
    return alarms


def check_topic(args, stage, resolved):
    """Every topic the alarms notify, encrypted with the stage's key: `<stage>-alarms` with the
    stage file's e-mails, and `<stage>-known-broken` (the deliberately broken functions') with
    none. Returns topic name -> ARN."""
    sns = client("sns", args)
    topics = {t["TopicArn"].rsplit(":", 1)[1]: t["TopicArn"] for t in paged(sns, "list_topics", "Topics")}
    wanted = sorted({a["topic"] for a in resolved["alarms"]} | {resolved["alarm_topic_name"]})
    same("SNS topics", sorted(topics), wanted)
    kms = client("kms", args)
    for name, topic_arn in topics.items():
        attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        key_id = attributes.get("KmsMasterKeyId", "")
        if expect(key_id not in ("", "alias/aws/sns"), f"topic {topic_arn} is not encrypted with a customer managed key ({key_id!r})"):
            key = kms.describe_key(KeyId=key_id)["KeyMetadata"]
            same(f"{name} key manager", key.get("KeyManager"), "CUSTOMER")
            policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
            cloudwatch = [st for st in policy["Statement"] if st.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"]
            same(f"{name} key: what CloudWatch alarms may do", [(sorted(st["Action"]), st["Condition"]["ArnLike"]["aws:SourceArn"].rsplit(":", 1)[1]) for st in cloudwatch],
                 [(["kms:Decrypt", "kms:GenerateDataKey*"], f"{stage['stage']}-*")])
        subscriptions = paged(sns, "list_subscriptions_by_topic", "Subscriptions", TopicArn=topic_arn)
        # Only on-call's topic is subscribed: a deliberately broken function pages nobody.
        emails = stage["alarm_emails"] if name == resolved["alarm_topic_name"] else []
        same(f"{name} e-mail subscriptions", sorted((s["Protocol"], s["Endpoint"]) for s in subscriptions),
             sorted(("email", e) for e in emails))
    return topics


def check_dashboard(args, stage, resolved, alarms, api_id):
    cw = client("cloudwatch", args)
    name = f"{stage['stage']}-outage-lab"
    dashboards = [d["DashboardName"] for d in cw.list_dashboards()["DashboardEntries"]]
    same("dashboards", dashboards, [name])
    if name not in dashboards:
        return
    widgets = json.loads(cw.get_dashboard(DashboardName=name)["DashboardBody"])["widgets"]
    metrics = [m for w in widgets if w["type"] == "metric" for m in w["properties"]["metrics"]]
    for key, spec in resolved["functions"].items():
        for metric in ("Invocations", "Errors", "Duration"):
            expect(["AWS/Lambda", metric, "FunctionName", spec["function_name"]] in metrics,
                   f"dashboard has no {metric} of {spec['function_name']}")
    for metric in ("5xx", "Latency"):
        expect(any(m[:4] == ["AWS/ApiGateway", metric, "ApiId", api_id] for m in metrics), f"dashboard has no API {metric}")
    alarm_widgets = [w for w in widgets if w["type"] == "alarm"]
    if expect(len(alarm_widgets) == 1, "dashboard needs one alarm status widget"):
        same("dashboard alarm widget", sorted(alarm_widgets[0]["properties"]["alarms"]), sorted(a["AlarmArn"] for a in alarms.values()))
    queries = [w["properties"]["query"] for w in widgets if w["type"] == "log"]
    if expect(len(queries) == 1, "dashboard needs one Logs Insights widget"):
        for spec in resolved["functions"].values():
            expect(f"SOURCE '{spec['log_group']}'" in queries[0], f"Logs Insights widget does not search {spec['log_group']}")


def check_outputs(args, outputs, stage, resolved, api_id, topics):
    value = {k: v["value"] for k, v in outputs.items()}
    same("output stage", value.get("stage"), stage["stage"])
    same("output region", value.get("region"), stage["aws_region"])
    same("output api_id", value.get("api_id"), api_id)
    expect(str(value.get("api_endpoint", "")).startswith(("http://", "https://")), f"output api_endpoint {value.get('api_endpoint')!r}")
    same("output function_names", value.get("function_names"), {k: f["function_name"] for k, f in resolved["functions"].items()})
    same("output alarm_names", sorted((value.get("alarm_names") or {}).values()), sorted(a["name"] for a in resolved["alarms"]))
    same("output sns_topic_arn", value.get("sns_topic_arn"), topics.get(resolved["alarm_topic_name"]))
    same("output known_broken_topic_arn", value.get("known_broken_topic_arn"), topics.get(resolved["known_broken_topic_name"]))
    expect("#dashboards/dashboard/" in str(value.get("dashboard_url")), f"output dashboard_url {value.get('dashboard_url')!r}")
    lam = client("lambda", args)
    same("output live_alias_arns", value.get("live_alias_arns"),
         {k: lam.get_alias(FunctionName=f["function_name"], Name=LIVE)["AliasArn"] for k, f in resolved["functions"].items()})
    if args.without_codedeploy:
        # The emulator's CodeDeploy cannot hold the stage's (scripts/tf-local-apply leaves it out).
        same("output codedeploy_application_name", value.get("codedeploy_application_name"), None)
        same("output deployment_group_names", value.get("deployment_group_names"), {})
    else:
        same("output codedeploy_application_name", value.get("codedeploy_application_name"), f"{stage['stage']}-outage-lab")
        same("output deployment_group_names", value.get("deployment_group_names"),
             {k: f["function_name"] for k, f in resolved["functions"].items()})

def check_deployed(args, stage, resolved):
    topics = check_topic(args, stage, resolved)
    check_functions(args, stage, resolved)
    api_id = check_api(args, stage, resolved)
    alarms = check_alarms(args, stage, resolved, topics)
    check_dashboard(args, stage, resolved, alarms, api_id)
    with open(args.outputs) as f:
        check_outputs(args, json.load(f), stage, resolved, api_id, topics)
    return (f"{len(resolved['functions'])} functions, {len(resolved['routes'])} routes, "
            f"{len(resolved['alarms'])} alarms, {len(topics)} topic(s), dashboard and outputs match the stage file")


def lab_get(base, path, token=None):
    request = urllib.request.Request(base.rstrip("/") + path)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def check_lab(args, stage, resolved):
    with open(args.lab_json) as f:
        lab = json.load(f)
    with open(lab["token_file"]) as f:
        token = f.read().strip()
    admin = lab["admin_url"]

    lam = client("lambda", args)
    deployed = {}
    for f in paged(lam, "list_functions", "Functions"):
        conf = lam.get_function_configuration(FunctionName=f["FunctionName"])
        reserved = lam.get_function_concurrency(FunctionName=f["FunctionName"]).get("ReservedConcurrentExecutions")
        deployed[f["FunctionName"]] = (conf["MemorySize"], conf["Timeout"], reserved, conf.get("Environment", {}).get("Variables", {}))
    status, body = lab_get(admin, "/functions", token)
    if not expect(status == 200, f"lab GET /functions answered {status}"):
        return "lab unreachable"
    local = {
        f["FunctionName"]: (f["MemorySize"], f["Timeout"], f["ReservedConcurrentExecutions"], f.get("Environment", {}).get("Variables", {}))
        for f in json.loads(body)
    }
    same("lab functions (memory, timeout, reserved concurrency, environment) vs deployed", local, deployed)

    def comparable(alarm, api_id):
        def anon(d):
            return tuple(sorted((k, "<api id>" if k == "ApiId" and v == api_id else v) for k, v in d.items()))
        return (alarm["namespace"], alarm["metric_name"], anon(alarm["dimensions"]), alarm["statistic"], alarm["period"],
                alarm["evaluation_periods"], alarm["datapoints_to_alarm"], alarm["threshold"],
                alarm["comparison_operator"], alarm["treat_missing_data"], tuple(alarm["topics"]),
                tuple(anon(m) for m in alarm["minus"]))

    cw = client("cloudwatch", args)
    api_ids = [a["ApiId"] for a in client("apigatewayv2", args).get_apis()["Items"]]
    deployed_api = api_ids[0] if api_ids else None
    deployed_alarms = {
        a["AlarmName"]: comparable({
            **watched(a),
            "evaluation_periods": a["EvaluationPeriods"], "datapoints_to_alarm": a.get("DatapointsToAlarm"),
            "threshold": a["Threshold"], "comparison_operator": a["ComparisonOperator"],
            "treat_missing_data": a.get("TreatMissingData"),
            # The lab names topics; AWS gives ARNs.
            "topics": [arn.rsplit(":", 1)[1] for arn in a.get("AlarmActions", [])],
        }, deployed_api)
        for a in paged(cw, "describe_alarms", "MetricAlarms")
    }
    status, body = lab_get(admin, "/alarms", token)
    expect(status == 200, f"lab GET /alarms answered {status}")
    local_alarms = {
        a["AlarmName"]: comparable({
            "namespace": a["Namespace"], "metric_name": a["MetricName"], "dimensions": a["Dimensions"],
            "statistic": a["Statistic"], "period": a["Period"], "evaluation_periods": a["EvaluationPeriods"],
            "datapoints_to_alarm": a["DatapointsToAlarm"], "threshold": float(a["Threshold"]),
            "comparison_operator": a["ComparisonOperator"], "treat_missing_data": a["TreatMissingData"],
            "topics": a.get("AlarmActions", []), "minus": a.get("Minus", []),
        }, lab["api_id"])
        for a in (json.loads(body) if status == 200 else [])
    }
    same("lab alarms (metric, dimensions, maths) vs deployed", local_alarms, deployed_alarms)

    # The lab's gateway serves every route of the deployed API (any answer but the gateway's
    # own 404) and nothing else.
    routes = [r["RouteKey"] for r in client("apigatewayv2", args).get_routes(ApiId=deployed_api)["Items"]] if deployed_api else []
    for route in routes:
        method, path = route.split(" ", 1)
        if method not in ("GET", "ANY"):
            continue
        status, body = lab_get(lab["gateway_url"], path)
        expect(not (status == 404 and b"Not Found" in body), f"lab gateway has no route {route} that the deployed API has")
    status, _ = lab_get(lab["gateway_url"], "/no-such-route-in-any-stage")
    same("lab gateway answer for a route no stage defines", status, 404)
    return f"the lab serves the same {len(local)} functions, {len(local_alarms)} alarms and {len(routes)} routes as the emulator"


def check_destroyed(args, stage, resolved):
    left = {
        "functions": [f["FunctionName"] for f in paged(client("lambda", args), "list_functions", "Functions")],
        "APIs": [a["Name"] for a in client("apigatewayv2", args).get_apis()["Items"]],
        "alarms": [a["AlarmName"] for a in paged(client("cloudwatch", args), "describe_alarms", "MetricAlarms")],
        "topics": [t["TopicArn"] for t in paged(client("sns", args), "list_topics", "Topics")],
        "dashboards": [d["DashboardName"] for d in client("cloudwatch", args).list_dashboards()["DashboardEntries"]],
        "CodeDeploy applications": paged(client("codedeploy", args), "list_applications", "applications"),
        "log groups": [g["logGroupName"] for g in paged(client("logs", args), "describe_log_groups", "logGroups")],
        # The bootstrap's GitHub roles were applied before the stage and stay.
        "roles": [r["RoleName"] for r in paged(client("iam", args), "list_roles", "Roles")
                  if not r["RoleName"].startswith("outage-lab-github-")],
    }
    for kind, names in left.items():
        expect(not names, f"{kind} left after destroy: {names}")
    return "nothing of the stage is left"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["deployed", "lab", "destroyed"])
    parser.add_argument("--endpoint", required=True, help="AWS API endpoint (the moto server)")
    parser.add_argument("--stage-file", required=True)
    parser.add_argument("--resolved", required=True, help="output of `cargo run -p outage-config --example resolve`")
    parser.add_argument("--outputs", help="terraform output -json of the root (deployed)")
    parser.add_argument("--packages", help="directory of <code>/bootstrap.zip (deployed)")
    parser.add_argument("--lab-json", help="lab.json of the running lab (lab)")
    parser.add_argument("--plan", help="terraform show -json of the plan that was applied (deployed)")
    parser.add_argument("--without-codedeploy", action="store_true",
                        help="the root was applied with enable_codedeploy = false (deployed: its outputs must say so)")
    args = parser.parse_args()
    with open(args.stage_file) as f:
        stage = json.load(f)
    with open(args.resolved) as f:
        resolved = json.load(f)
    args.region = stage["aws_region"]
    if args.mode == "deployed" and not (args.outputs and args.packages and args.plan):
        parser.error("deployed needs --outputs, --packages and --plan")

    if args.mode == "lab" and not args.lab_json:
        parser.error("lab needs --lab-json")
    check = {"deployed": check_deployed, "lab": check_lab, "destroyed": check_destroyed}[args.mode]
    summary = check(args, stage, resolved)
    if problems:
        print(f"{stage['stage']}: {len(problems)} mismatches between the emulator and the stage file:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        sys.exit(1)
    print(f"{stage['stage']}: {summary}")


if __name__ == "__main__":
    main()
