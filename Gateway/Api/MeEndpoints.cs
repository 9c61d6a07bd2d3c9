using System.Globalization;
using System.Security.Claims;
using GroupPay.Gateway.Auth;
using GroupPay.Gateway.Infrastructure;
using GroupPay.Grains;
using GroupPay.Grains.Orders;
using GroupPay.Grains.Referrals;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace GroupPay.Gateway.Api;

/// <summary><c>/api/me</c>: the signed-in user, their groups and their rewards (session required).</summary>
public static class MeEndpoints
{
    /// <summary>How many of the user's most recent groups <c>/api/me/groups</c> shows.</summary>
    public const int MaxGroupsShown = 20;

    public static RouteGroupBuilder MapMe(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/me").WithTags("Me").RequireAuthorization()
            .WithProblems(StatusCodes.Status400BadRequest, StatusCodes.Status401Unauthorized, StatusCodes.Status503ServiceUnavailable);
        group.MapGet("", GetAsync).WithReadDeadline().WithName("GetMe").WithSummary("The signed-in user: openid and referral code.");
        group.MapGet("/groups", GroupsAsync).WithReadDeadline().WithName("ListMyGroups").WithSummary("The groups I started, joined or paid in, most recent first.");
        group.MapGet("/rewards", RewardsAsync).WithName("ListMyRewards").WithSummary("My inviter rewards: totals and one page, newest first.");
        return group;
    }

    internal static async Task<Ok<MeJson>> GetAsync(ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken)
    {
        var openid = user.GetOpenid();
        var profile = await grains.GetGrain<IReferralGrain>(openid).GetProfileAsync(cancellationToken);
        return TypedResults.Ok(new MeJson(openid, profile.ReferralCode));
    }

    /// <summary>The groups I started, joined or paid in, most recent first, each as I see it.</summary>
    internal static async Task<Ok<List<GroupJson>>> GroupsAsync(
        ClaimsPrincipal user, HttpRequest request, IGrainFactory grains, IOptions<GatewayOptions> options, CancellationToken cancellationToken)
    {
        var openid = user.GetOpenid();
        var me = grains.GetGrain<IReferralGrain>(openid);
        var ids = await me.GetGroupsAsync(cancellationToken);
        var code = (await me.GetProfileAsync(cancellationToken)).ReferralCode;
        var views = await Task.WhenAll(ids.Take(MaxGroupsShown).Select(async id =>
        {
            try
            {
                return await grains.GetGrain<IOrderGrain>(id).GetAsync(openid, cancellationToken);
            }
            catch (UnknownGroupException)
            {
                return null; // recorded, but its creation did not go through
            }
        }));
        return TypedResults.Ok(views.OfType<GroupView>()
            .Select(v => GroupJson.From(v, PublicLinks.ShareUrl(request, options.Value, v.GroupId, code)))
            .ToList());
    }

    /// <summary>The totals of all my rewards and one page of them, newest first: <c>limit</c> 1..100 (default 20),
    /// <c>after</c> = the previous page's <c>next</c> (docs/referrals.md).</summary>
    internal static async Task<Results<Ok<RewardsJson>, ProblemHttpResult>> RewardsAsync(
        [FromQuery] int? limit, [FromQuery] string? after, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (limit is < 1 or > ReferralLimits.MaxRewardPage)
        {
            return Problems.Invalid($"limit is between 1 and {ReferralLimits.MaxRewardPage}.");
        }
        long? cursor = null;
        if (after is not null)
        {
            if (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed < 1)
            {
                return Problems.Invalid("after is the previous page's next.");
            }
            cursor = parsed;
        }
        var page = await grains.GetGrain<IReferralGrain>(user.GetOpenid()).GetRewardPageAsync(limit ?? ReferralLimits.DefaultRewardPage, cursor);
        return TypedResults.Ok(RewardsJson.From(page));
    }
}
