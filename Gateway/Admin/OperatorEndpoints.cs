using GroupPay.Gateway.Api;
using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains.Operations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GroupPay.Gateway.Admin;

/// <summary><c>/admin/operator</c>: the operator queue (docs/operator-queue.md): list and read items, retry a refund,
/// resolve with a note, the open counts; <c>X-Admin-Key</c> required (<see cref="AdminKeyAuthenticationHandler"/>).</summary>
public static class OperatorEndpoints
{
    private const string ItemIdRule = "An item id is 1..160 of [0-9A-Za-z:_./-].";

    public static RouteGroupBuilder MapOperator(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/operator").WithTags("Admin").RequireAuthorization(AdminKeyAuthenticationHandler.PolicyName).WithAdminProblems();
        group.MapGet("/items", ListAsync).WithName("ListOperatorItems").WithSummary("Operator items, oldest first, by status and kind, one page at a time.");
        group.MapGet("/items/{itemId}", GetAsync).WithName("GetOperatorItem").WithSummary("One operator item with its history.");
        group.MapPost("/items/{itemId}/retry", RetryAsync).RateLimitMutations().WithName("RetryOperatorItem").WithSummary("Retries the item's action (a refund under the next out_refund_no).");
        group.MapPost("/items/{itemId}/resolve", ResolveAsync).RateLimitMutations().WithName("ResolveOperatorItem").WithSummary("Closes the item by hand, with a note.");
        group.MapGet("/counts", CountsAsync).WithName("CountOperatorItems").WithSummary("Open items by kind.");
        return group;
    }

    /// <summary>Oldest first; <c>status</c> <c>open</c> (default) or <c>resolved</c>, <c>kind</c> in kebab case,
    /// <c>limit</c> 1..200 (default 50), <c>after</c> = the previous page's <c>next</c>.</summary>
    internal static async Task<Results<Ok<OperatorPageJson>, ProblemHttpResult>> ListAsync(
        [FromQuery] string? status, [FromQuery] string? kind, [FromQuery] int? limit, [FromQuery] string? after, IGrainFactory grains)
    {
        OperatorItemStatus? wanted = status switch
        {
            null or "open" => OperatorItemStatus.Open,
            "resolved" => OperatorItemStatus.Resolved,
            _ => null,
        };
        if (wanted is null)
        {
            return Problems.Invalid("status is open or resolved.");
        }
        OperatorItemKind? ofKind = null;
        if (kind is not null)
        {
            if (!OperatorItemKinds.TryParse(kind, out var parsed))
            {
                return Problems.Invalid("kind is one of " + string.Join(", ", OperatorItemKinds.All) + ".");
            }
            ofKind = parsed;
        }
        if (limit is < 1 or > OperatorItemRules.MaxPageSize)
        {
            return Problems.Invalid($"limit is between 1 and {OperatorItemRules.MaxPageSize}.");
        }
        if (after is not null && !OperatorItemRules.IsItemId(after))
        {
            return Problems.Invalid("after: " + ItemIdRule);
        }
        var page = await Queue(grains).ListAsync(new OperatorItemQuery(wanted, ofKind, limit ?? 50, after));
        return TypedResults.Ok(new OperatorPageJson([.. page.Items.Select(i => OperatorItemJson.From(i, withActions: false))], page.Next));
    }

    internal static async Task<Results<Ok<OperatorItemJson>, ProblemHttpResult>> GetAsync(string itemId, IGrainFactory grains)
    {
        if (ItemId(itemId) is not { } id)
        {
            return Problems.Invalid(ItemIdRule);
        }
        return await Queue(grains).GetAsync(id) is { } item
            ? TypedResults.Ok(OperatorItemJson.From(item, withActions: true))
            : Problems.Create(StatusCodes.Status404NotFound, "unknown-item", $"Operator item '{id}' does not exist.");
    }

    internal static async Task<Results<Ok<OperatorItemJson>, ProblemHttpResult>> RetryAsync(
        string itemId, OperatorActionRequest? body, IGrainFactory grains)
    {
        if (Refusal(itemId, body, noteRequired: false) is { } problem)
        {
            return problem;
        }
        var item = await Queue(grains).RetryAsync(ItemId(itemId)!, body!.Actor!, body.Note);
        return TypedResults.Ok(OperatorItemJson.From(item, withActions: true));
    }

    internal static async Task<Results<Ok<OperatorItemJson>, ProblemHttpResult>> ResolveAsync(
        string itemId, OperatorActionRequest? body, IGrainFactory grains)
    {
        if (Refusal(itemId, body, noteRequired: true) is { } problem)
        {
            return problem;
        }
        var item = await Queue(grains).ResolveAsync(ItemId(itemId)!, body!.Actor!, body.Note!);
        return TypedResults.Ok(OperatorItemJson.From(item, withActions: true));
    }

    internal static async Task<Ok<OperatorCountsJson>> CountsAsync(IGrainFactory grains) =>
        TypedResults.Ok(OperatorCountsJson.From(await Queue(grains).CountsAsync()));

    private static IOperatorQueueGrain Queue(IGrainFactory grains) => grains.GetGrain<IOperatorQueueGrain>(0);

    /// <summary>The path's item id, or null when it breaks the rule. Routing leaves an encoded slash (<c>%2F</c>) as
    /// it came; ids have no <c>%</c>, so decoding what is left is safe.</summary>
    private static string? ItemId(string itemId)
    {
        var id = Uri.UnescapeDataString(itemId);
        return OperatorItemRules.IsItemId(id) ? id : null;
    }

    private static ProblemHttpResult? Refusal(string itemId, OperatorActionRequest? body, bool noteRequired)
    {
        if (ItemId(itemId) is null)
        {
            return Problems.Invalid(ItemIdRule);
        }
        return OperatorItemRules.ActorOrNoteProblem(body?.Actor, body?.Note, noteRequired) is { } problem ? Problems.Invalid(problem) : null;
    }
}
