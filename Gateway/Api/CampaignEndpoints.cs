using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains;
using GroupPay.Grains.Campaigns;
using GroupPay.Grains.Orders;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GroupPay.Gateway.Api;

/// <summary><c>/api/campaigns</c>: the offers, for everyone (no session needed).</summary>
public static class CampaignEndpoints
{
    /// <summary>The most open groups <c>/api/campaigns/{id}/groups</c> answers (<c>limit</c>, default <see cref="DefaultOpenGroups"/>).</summary>
    public const int MaxOpenGroups = 10;

    public const int DefaultOpenGroups = 5;

    /// <summary>How many of the newest groups are looked at to find the open ones: the work per call is bounded.</summary>
    public const int ScannedGroups = 30;

    public static RouteGroupBuilder MapCampaigns(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/campaigns").WithTags("Campaigns").AllowAnonymous()
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);
        group.MapGet("", ListAsync).WithReadDeadline().WithName("ListCampaigns").WithSummary("Every defined campaign (offer).");
        group.MapGet("/{campaignId}", GetAsync).WithReadDeadline().WithName("GetCampaign").WithSummary("One campaign; 404 unknown-campaign.");
        group.MapGet("/{campaignId}/groups", OpenGroupsAsync).WithReadDeadline().WithName("ListOpenGroups").WithSummary("凑团: the campaign's groups one can join now, newest first.");
        return group;
    }

    /// <summary>凑团: the campaign's groups one can join now (open, a slot free), newest first, among its
    /// <see cref="ScannedGroups"/> newest (<see cref="IOpenGroupsGrain"/>).</summary>
    internal static async Task<Results<Ok<List<OpenGroupJson>>, ProblemHttpResult>> OpenGroupsAsync(
        string campaignId, [FromQuery] int? limit, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (!EdgeRules.IsCampaignId(campaignId))
        {
            return Problems.Invalid("A campaign id is 1..64 of [0-9A-Za-z_-].");
        }
        if (limit is < 1 or > MaxOpenGroups)
        {
            return Problems.Invalid($"limit is between 1 and {MaxOpenGroups}.");
        }
        var ids = await grains.GetGrain<IOpenGroupsGrain>(campaignId).RecentAsync(ScannedGroups, cancellationToken);
        var views = await Task.WhenAll(ids.Select(async id =>
        {
            try
            {
                return await grains.GetGrain<IOrderGrain>(id).GetAsync(null, cancellationToken);
            }
            catch (UnknownGroupException)
            {
                return null; // listed, but its creation did not go through
            }
        }));
        return TypedResults.Ok(views.OfType<GroupView>()
            .Where(v => v.Status == GroupStatus.Open && v.Slots.Any(s => s.Status == SlotStatus.Free))
            .Take(limit ?? DefaultOpenGroups)
            .Select(OpenGroupJson.From)
            .ToList());
    }

    internal static async Task<Ok<List<CampaignJson>>> ListAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        var ids = await grains.GetGrain<ICampaignCatalogGrain>(0).ListAsync(cancellationToken);
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
