using GroupPay.Gateway.Api;
using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Stats;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GroupPay.Gateway.Admin;

/// <summary><c>/admin</c>: define campaigns and read the growth stats; <c>X-Admin-Key</c> required
/// (<see cref="AdminKeyAuthenticationHandler"/>).</summary>
public static class AdminEndpoints
{
    public static RouteGroupBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin").WithTags("Admin").RequireAuthorization(AdminKeyAuthenticationHandler.PolicyName).WithAdminProblems();
        group.MapPut("/campaigns/{campaignId}", DefineCampaignAsync).RateLimitMutations().WithName("DefineCampaign").WithSummary("Creates or updates a campaign; stock already reserved or sold stays counted.");
        group.MapGet("/stats", StatsAsync).WithName("GetStats").WithSummary("The growth figures of one campaign, or of the whole shop.");
        group.MapGet("/stats/recount", RecountAsync).WithName("RecountStats").WithSummary("A campaign's group figures recomputed from its stored groups, against the live counters.");
        return group;
    }

    internal static async Task<Results<Ok<CampaignJson>, ProblemHttpResult>> DefineCampaignAsync(
        string campaignId, CampaignRequest? body, IGrainFactory grains)
    {
        if (!EdgeRules.IsCampaignId(campaignId))
        {
            return Problems.Invalid("A campaign id is 1..64 of [0-9A-Za-z_-].");
        }
        if (body is null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "invalid-campaign", "A campaign body is required.");
        }
        var (definition, problem) = body.ToDefinition();
        if (definition is null)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "invalid-campaign", problem!);
        }
        return TypedResults.Ok(CampaignJson.From(await grains.GetGrain<ICampaignGrain>(campaignId).DefineAsync(definition)));
    }

    /// <summary>The counters of one campaign, or of the whole shop without <c>campaignId</c>.</summary>
    internal static async Task<Results<Ok<StatsJson>, ProblemHttpResult>> StatsAsync([FromQuery] string? campaignId, IGrainFactory grains)
    {
        if (campaignId is not null && !EdgeRules.IsCampaignId(campaignId))
        {
            return Problems.Invalid("A campaign id is 1..64 of [0-9A-Za-z_-].");
        }
        return TypedResults.Ok(StatsJson.From(await grains.GetGrain<IStatsGrain>(0).GetAsync(campaignId ?? StatsScope.Total)));
    }

    /// <summary>A campaign's group figures recomputed from its stored groups, against the live counters.</summary>
    internal static async Task<Results<Ok<RecountJson>, ProblemHttpResult>> RecountAsync([FromQuery] string? campaignId, IGrainFactory grains)
    {
        if (campaignId is null || !EdgeRules.IsCampaignId(campaignId))
        {
            return Problems.Invalid("campaignId (1..64 of [0-9A-Za-z_-]) is required.");
        }
        return TypedResults.Ok(RecountJson.From(await grains.GetGrain<IStatsGrain>(0).RecountAsync(campaignId)));
    }
}
