using Microsoft.AspNetCore.Http.HttpResults;

namespace GroupPay.WeChatPay.Sandbox;

/// <summary>The sandbox's own JSON control API under <c>/sandbox</c>: health, clock, faults, orders, notifies.</summary>
internal static class SandboxControlEndpoints
{
    /// <summary>Ten years: enough for any WeChat rule, small enough for <see cref="TimeSpan"/>.</summary>
    private const double MaxAdvanceSeconds = 10 * 365 * 24 * 3600;

    public static RouteGroupBuilder MapSandboxControl(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/sandbox");
        group.MapGet("/health", Health);
        group.MapGet("/clock", GetClock);
        group.MapPost("/clock/advance", AdvanceClock);
        group.MapGet("/faults", (FaultInjection faults) => TypedResults.Ok(faults.Snapshot()));
        group.MapPost("/faults", SetFaults);
        group.MapDelete("/faults", ResetFaults);
        group.MapGet("/orders/{outTradeNo}", GetOrder);
        group.MapPost("/orders/{outTradeNo}/pay", PayOrder);
        group.MapPost("/orders/{outTradeNo}/notify", RedeliverNotify);
        group.MapPost("/orders/{outTradeNo}/console-refund", ConsoleRefund);
        group.MapGet("/notifications", ListNotifications);
        return group;
    }

    private static Ok<HealthView> Health(SandboxClock clock) =>
        TypedResults.Ok(new HealthView("ok", clock.GetUtcNow(), clock.Offset.TotalSeconds));

    private static Ok<ClockView> GetClock(SandboxClock clock) => TypedResults.Ok(new ClockView(clock.GetUtcNow(), clock.Offset.TotalSeconds));

    private static Results<Ok<ClockView>, ValidationProblem> AdvanceClock(ClockAdvanceRequest request, SandboxClock clock)
    {
        if (request.Seconds is not (>= 0 and <= MaxAdvanceSeconds and var seconds))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["seconds"] = [$"must be a number of seconds from 0 to {MaxAdvanceSeconds} (the clock only moves forward)"],
            });
        }
        var offset = clock.Advance(TimeSpan.FromSeconds(seconds));
        return TypedResults.Ok(new ClockView(clock.GetUtcNow(), offset.TotalSeconds));
    }

    private static Results<Ok<FaultSettings>, ValidationProblem> SetFaults(FaultSettings settings, FaultInjection faults)
    {
        var errors = settings.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        faults.Apply(settings);
        return TypedResults.Ok(faults.Snapshot());
    }

    private static Ok<FaultSettings> ResetFaults(FaultInjection faults)
    {
        faults.Reset();
        return TypedResults.Ok(faults.Snapshot());
    }

    private static Results<Ok<OrderView>, NotFound> GetOrder(string outTradeNo, SandboxStore store, RefundSettlement settlement)
    {
        if (store.FindOrder(outTradeNo) is not { } order)
        {
            return TypedResults.NotFound();
        }
        settlement.SettleDue(order);
        return TypedResults.Ok(OrderView.Of(order));
    }

    /// <summary>Marks an order paid without the cashier's checks; <c>force</c> pays even a closed order.</summary>
    private static Results<Ok<OrderView>, NotFound, ProblemHttpResult, ValidationProblem> PayOrder(
        string outTradeNo, ForcePayRequest? request, SandboxStore store, PaymentDesk desk)
    {
        if (store.FindOrder(outTradeNo) is not { } order)
        {
            return TypedResults.NotFound();
        }
        var openid = request?.Openid ?? order.Terms.Openid;
        if (!OAuthRules.IsOpenid(openid))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["openid"] = ["required (the order has no openid of its own)"] });
        }
        return desk.Pay(order, openid!, request?.Force ?? false, out _) switch
        {
            PayOutcome.Paid => TypedResults.Ok(OrderView.Of(order)),
            PayOutcome.AlreadyPaid => TypedResults.Problem("The order is already paid.", statusCode: StatusCodes.Status409Conflict, title: "already-paid"),
            _ => TypedResults.Problem("The order is closed; pass \"force\": true to pay it anyway.", statusCode: StatusCodes.Status409Conflict, title: "closed"),
        };
    }

    /// <summary>Sends the payment notify once more, now (a late or duplicate notify on demand), and returns the attempt.
    /// A body <c>{"totalFee","openid"}</c> makes it a correctly signed notify for another amount or payer.</summary>
    private static async Task<Results<Ok<NotifyAttempt>, NotFound, ProblemHttpResult, ValidationProblem>> RedeliverNotify(
        string outTradeNo, NotifyOverrideRequest? forged, SandboxStore store, NotifyDispatcher notifies, CancellationToken cancellationToken)
    {
        if (store.FindOrder(outTradeNo) is not { } order)
        {
            return TypedResults.NotFound();
        }
        if (forged is { TotalFee: <= 0 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["totalFee"] = ["must be a positive number of fen"] });
        }
        if (forged is { Openid: { } openid } && !OAuthRules.IsOpenid(openid))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["openid"] = ["must be an openid ([0-9A-Za-z_-], 1..128)"] });
        }
        bool paid;
        lock (order.Gate)
        {
            paid = order.Payment is not null;
        }
        if (!paid)
        {
            return TypedResults.Problem("The order is not paid; there is no payment notify.", statusCode: StatusCodes.Status409Conflict, title: "not-paid");
        }
        return TypedResults.Ok(await notifies.RedeliverPaymentAsync(order, forged, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>A refund made in the merchant console: numbered by WeChat, <c>VENDOR_PLATFORM</c>, settled and notified like any.</summary>
    private static Results<Ok<ConsoleRefundView>, NotFound, ProblemHttpResult, ValidationProblem> ConsoleRefund(
        string outTradeNo, ConsoleRefundRequest? request, SandboxStore store, RefundApi refunds)
    {
        if (store.FindOrder(outTradeNo) is not { } order)
        {
            return TypedResults.NotFound();
        }
        if (request is { RefundFee: <= 0 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["refundFee"] = ["must be a positive number of fen"] });
        }
        if (refunds.ConsoleRefund(order, request?.RefundFee, out var refusal) is not { } refund)
        {
            return TypedResults.Problem(refusal, statusCode: StatusCodes.Status409Conflict, title: "not-refundable");
        }
        lock (order.Gate)
        {
            return TypedResults.Ok(new ConsoleRefundView(order.OutTradeNo, refund.OutRefundNo, refund.RefundId, refund.RefundFee, refund.StatusName));
        }
    }

    private static Ok<NotifyAttempt[]> ListNotifications(string? outTradeNo, SandboxStore store)
    {
        IEnumerable<SandboxOrder> orders = outTradeNo is null ? store.Orders : store.FindOrder(outTradeNo) is { } one ? [one] : [];
        var attempts = new List<NotifyAttempt>();
        foreach (var order in orders)
        {
            lock (order.Gate)
            {
                attempts.AddRange(order.Attempts);
            }
        }
        return TypedResults.Ok(attempts.OrderBy(a => a.At).ToArray());
    }
}
