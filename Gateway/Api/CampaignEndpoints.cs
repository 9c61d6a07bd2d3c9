using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains.Campaigns;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GroupPay.Gateway.Api;

/// <summary><c>/api/campaigns</c>: the offers, for everyone (no session needed).</summary>
public static class CampaignEndpoints
{
    public static RouteGroupBuilder MapCampaigns(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/campaigns").WithTags("Campaigns").AllowAnonymous();
        group.MapGet("", ListAsync).WithReadDeadline();
        group.MapGet("/{campaignId}", GetAsync).WithReadDeadline();
        return group;
    }

    internal static async Task<Ok<List<CampaignJson>>> ListAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        var ids = await grains.GetGrain<ICampaignCatalogGrain>(0).ListAsync();
        var views = await Task.WhenAll(ids.Select(id => grains.GetGrain<ICampaignGrain>(id).GetAsync(cancellationToken)));
        return TypedResults.Ok(views.OfType<CampaignView>().Select(CampaignJson.From).ToList());
    }

    internal static async Task<Results<Ok<CampaignJson>, ProblemHttpResult>> GetAsync(string campaignId, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!EdgeRules.IsCampaignId(campaignId))
        {
            return Problems.Invalid("A campaign id is 1..64 of [0-9A-Za-z_-].");
        }
        return await grains.GetGrain<ICampaignGrain>(campaignId).GetAsync(cancellationToken) is { } view
            ? TypedResults.Ok(CampaignJson.From(view))
            : Problems.Create(StatusCodes.Status404NotFound, "unknown-campaign", $"Campaign '{campaignId}' does not exist.");
    }
}
