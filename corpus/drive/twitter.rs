//! Drives the stub of twitter at run time, the one corpus spec with an HTTP scheme other than bearer and basic:
//! finding the caller accepts an oauth2 access token (a bearer credential carrying the requirement's scopes) or
//! OAuth 1.0a credentials (`Authorization: OAuth …`, handed over as written); the stream rules accept only a bearer
//! token. Both operations also answer their `default` response, in either of its media types.
//!
//! Kinds: default response, http bearer, other http scheme, oauth2

mod support;

use std::sync::Arc;

// The whole crate: the 78 operations no case drives name their types below.
use corpus_twitter::*;
use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};
use support::{answers, answers_text, check, get, not_driven, rejected};

struct Trivial;

type Ctx = Context<String>;

impl Api for Trivial {
    /// `scheme:credential`, plus the scopes of an oauth2 requirement.
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        let caller = match credentials.iter().next() {
            Some(Credential::Bearer {
                scheme: "BearerToken",
                token,
            }) => format!("app:{token}"),
            Some(Credential::Bearer {
                scheme: "OAuth2UserToken",
                token,
            }) => format!("oauth2:{token} [{}]", credentials.scopes().join(" ")),
            Some(Credential::Http {
                scheme: "UserToken",
                auth_scheme: "OAuth",
                credentials,
            }) => format!("oauth1:{credentials}"),
            _ => return Err(Rejection::unauthorized("no credential of a known scheme")),
        };
        if caller.contains("revoked") {
            return Err(Rejection::unauthorized("revoked credential"));
        }
        Ok(caller)
    }

    /// The caller as the user's name; a suspended one gets the `default` answer as a problem document.
    async fn find_my_user(&self, ctx: Ctx, _query: FindMyUserQuery) -> Result<FindMyUserResponse, Rejection> {
        if ctx.caller.contains("suspended") {
            let problem = types::Problem {
                detail: Some(ctx.caller),
                status: Some(403),
                title: "Forbidden".to_owned(),
                type_: "about:blank".to_owned(),
            };
            return Ok(FindMyUserResponse::Default {
                status: 403,
                body: FindMyUserDefaultBody::ApplicationProblemJson(problem),
            });
        }
        // The id and username are checked against their schemas' patterns as they are made.
        let user = types::User {
            id: "1".parse().map_err(Rejection::internal)?,
            name: ctx.caller,
            username: "me".parse().map_err(Rejection::internal)?,
            created_at: None,
            description: None,
            entities: None,
            location: None,
            pinned_tweet_id: None,
            profile_image_url: None,
            protected: None,
            public_metrics: None,
            url: None,
            verified: None,
            verified_type: None,
            withheld: None,
        };
        Ok(FindMyUserResponse::Ok(types::Get2UsersMeResponse {
            data: Some(user),
            ..types::Get2UsersMeResponse::default()
        }))
    }

    /// No rules, sent by the caller; a rate-limited one gets the `default` answer as a JSON error.
    async fn get_rules(&self, ctx: Ctx, _query: GetRulesQuery) -> Result<GetRulesResponse, Rejection> {
        if ctx.caller.contains("limited") {
            let error = types::Error {
                code: 88,
                message: format!("{} is over its rate limit", ctx.caller),
            };
            return Ok(GetRulesResponse::Default {
                status: 429,
                body: GetRulesDefaultBody::ApplicationJson(error),
            });
        }
        Ok(GetRulesResponse::Ok(types::RulesLookupResponse {
            data: Vec::new(),
            meta: types::RulesResponseMetadata {
                next_token: None,
                result_count: Some(0),
                sent: ctx.caller,
                summary: None,
            },
        }))
    }

    not_driven! {
        list_batch_compliance_jobs(Ctx, ListBatchComplianceJobsQuery) -> ListBatchComplianceJobsResponse;
        create_batch_compliance_job(Ctx, types::CreateComplianceJobRequest) -> CreateBatchComplianceJobResponse;
        get_batch_compliance_job(Ctx, GetBatchComplianceJobPath, GetBatchComplianceJobQuery)
            -> GetBatchComplianceJobResponse;
        dm_conversation_id_create(Ctx, Option<types::CreateDmConversationRequest>) -> DmConversationIdCreateResponse;
        get_dm_conversations_with_participant_id_dm_events(
            Ctx,
            GetDmConversationsWithParticipantIdDmEventsPath,
            GetDmConversationsWithParticipantIdDmEventsQuery,
        ) -> GetDmConversationsWithParticipantIdDmEventsResponse;
        dm_conversation_with_user_event_id_create(
            Ctx,
            DmConversationWithUserEventIdCreatePath,
            Option<types::CreateMessageRequest>,
        ) -> DmConversationWithUserEventIdCreateResponse;
        dm_conversation_by_id_event_id_create(
            Ctx,
            DmConversationByIdEventIdCreatePath,
            Option<types::CreateMessageRequest>,
        ) -> DmConversationByIdEventIdCreateResponse;
        get_dm_conversations_id_dm_events(Ctx, GetDmConversationsIdDmEventsPath, GetDmConversationsIdDmEventsQuery)
            -> GetDmConversationsIdDmEventsResponse;
        get_dm_events(Ctx, GetDmEventsQuery) -> GetDmEventsResponse;
        list_id_create(Ctx, Option<types::ListCreateRequest>) -> ListIdCreateResponse;
        list_id_get(Ctx, ListIdGetPath, ListIdGetQuery) -> ListIdGetResponse;
        list_id_update(Ctx, ListIdUpdatePath, Option<types::ListUpdateRequest>) -> ListIdUpdateResponse;
        list_id_delete(Ctx, ListIdDeletePath) -> ListIdDeleteResponse;
        list_get_followers(Ctx, ListGetFollowersPath, ListGetFollowersQuery) -> ListGetFollowersResponse;
        list_get_members(Ctx, ListGetMembersPath, ListGetMembersQuery) -> ListGetMembersResponse;
        list_add_member(Ctx, ListAddMemberPath, Option<types::ListAddUserRequest>) -> ListAddMemberResponse;
        list_remove_member(Ctx, ListRemoveMemberPath) -> ListRemoveMemberResponse;
        lists_id_tweets(Ctx, ListsIdTweetsPath, ListsIdTweetsQuery) -> ListsIdTweetsResponse;
        get_open_api_spec(Context<()>) -> GetOpenApiSpecResponse;
        find_spaces_by_ids(Ctx, FindSpacesByIdsQuery) -> FindSpacesByIdsResponse;
        find_spaces_by_creator_ids(Ctx, FindSpacesByCreatorIdsQuery) -> FindSpacesByCreatorIdsResponse;
        search_spaces(Ctx, SearchSpacesQuery) -> SearchSpacesResponse;
        find_space_by_id(Ctx, FindSpaceByIdPath, FindSpaceByIdQuery) -> FindSpaceByIdResponse;
        space_buyers(Ctx, SpaceBuyersPath, SpaceBuyersQuery) -> SpaceBuyersResponse;
        space_tweets(Ctx, SpaceTweetsPath, SpaceTweetsQuery) -> SpaceTweetsResponse;
        find_tweets_by_id(Ctx, FindTweetsByIdQuery) -> FindTweetsByIdResponse;
        create_tweet(Ctx, types::TweetCreateRequest) -> CreateTweetResponse;
        get_tweets_compliance_stream(Ctx, GetTweetsComplianceStreamQuery) -> GetTweetsComplianceStreamResponse;
        tweet_counts_full_archive_search(Ctx, TweetCountsFullArchiveSearchQuery)
            -> TweetCountsFullArchiveSearchResponse;
        tweet_counts_recent_search(Ctx, TweetCountsRecentSearchQuery) -> TweetCountsRecentSearchResponse;
        get_tweets_firehose_stream(Ctx, GetTweetsFirehoseStreamQuery) -> GetTweetsFirehoseStreamResponse;
        get_tweets_label_stream(Ctx, GetTweetsLabelStreamQuery) -> GetTweetsLabelStreamResponse;
        sample_stream(Ctx, SampleStreamQuery) -> SampleStreamResponse;
        get_tweets_sample10_stream(Ctx, GetTweetsSample10StreamQuery) -> GetTweetsSample10StreamResponse;
        tweets_fullarchive_search(Ctx, TweetsFullarchiveSearchQuery) -> TweetsFullarchiveSearchResponse;
        tweets_recent_search(Ctx, TweetsRecentSearchQuery) -> TweetsRecentSearchResponse;
        search_stream(Ctx, SearchStreamQuery) -> SearchStreamResponse;
        add_or_delete_rules(Ctx, AddOrDeleteRulesQuery, types::AddOrDeleteRulesRequest) -> AddOrDeleteRulesResponse;
        find_tweet_by_id(Ctx, FindTweetByIdPath, FindTweetByIdQuery) -> FindTweetByIdResponse;
        delete_tweet_by_id(Ctx, DeleteTweetByIdPath) -> DeleteTweetByIdResponse;
        tweets_id_liking_users(Ctx, TweetsIdLikingUsersPath, TweetsIdLikingUsersQuery) -> TweetsIdLikingUsersResponse;
        find_tweets_that_quote_a_tweet(Ctx, FindTweetsThatQuoteATweetPath, FindTweetsThatQuoteATweetQuery)
            -> FindTweetsThatQuoteATweetResponse;
        tweets_id_retweeting_users(Ctx, TweetsIdRetweetingUsersPath, TweetsIdRetweetingUsersQuery)
            -> TweetsIdRetweetingUsersResponse;
        hide_reply_by_id(Ctx, HideReplyByIdPath, Option<types::TweetHideRequest>) -> HideReplyByIdResponse;
        find_users_by_id(Ctx, FindUsersByIdQuery) -> FindUsersByIdResponse;
        find_users_by_username(Ctx, FindUsersByUsernameQuery) -> FindUsersByUsernameResponse;
        find_user_by_username(Ctx, FindUserByUsernamePath, FindUserByUsernameQuery) -> FindUserByUsernameResponse;
        get_users_compliance_stream(Ctx, GetUsersComplianceStreamQuery) -> GetUsersComplianceStreamResponse;
        find_user_by_id(Ctx, FindUserByIdPath, FindUserByIdQuery) -> FindUserByIdResponse;
        users_id_blocking(Ctx, UsersIdBlockingPath, UsersIdBlockingQuery) -> UsersIdBlockingResponse;
        users_id_block(Ctx, UsersIdBlockPath, types::BlockUserRequest) -> UsersIdBlockResponse;
        get_users_id_bookmarks(Ctx, GetUsersIdBookmarksPath, GetUsersIdBookmarksQuery) -> GetUsersIdBookmarksResponse;
        post_users_id_bookmarks(Ctx, PostUsersIdBookmarksPath, types::BookmarkAddRequest)
            -> PostUsersIdBookmarksResponse;
        users_id_bookmarks_delete(Ctx, UsersIdBookmarksDeletePath) -> UsersIdBookmarksDeleteResponse;
        user_followed_lists(Ctx, UserFollowedListsPath, UserFollowedListsQuery) -> UserFollowedListsResponse;
        list_user_follow(Ctx, ListUserFollowPath, Option<types::ListFollowedRequest>) -> ListUserFollowResponse;
        list_user_unfollow(Ctx, ListUserUnfollowPath) -> ListUserUnfollowResponse;
        users_id_followers(Ctx, UsersIdFollowersPath, UsersIdFollowersQuery) -> UsersIdFollowersResponse;
        users_id_following(Ctx, UsersIdFollowingPath, UsersIdFollowingQuery) -> UsersIdFollowingResponse;
        users_id_follow(Ctx, UsersIdFollowPath, Option<types::UsersFollowingCreateRequest>) -> UsersIdFollowResponse;
        users_id_liked_tweets(Ctx, UsersIdLikedTweetsPath, UsersIdLikedTweetsQuery) -> UsersIdLikedTweetsResponse;
        users_id_like(Ctx, UsersIdLikePath, Option<types::UsersLikesCreateRequest>) -> UsersIdLikeResponse;
        users_id_unlike(Ctx, UsersIdUnlikePath) -> UsersIdUnlikeResponse;
        get_user_list_memberships(Ctx, GetUserListMembershipsPath, GetUserListMembershipsQuery)
            -> GetUserListMembershipsResponse;
        users_id_mentions(Ctx, UsersIdMentionsPath, UsersIdMentionsQuery) -> UsersIdMentionsResponse;
        users_id_muting(Ctx, UsersIdMutingPath, UsersIdMutingQuery) -> UsersIdMutingResponse;
        users_id_mute(Ctx, UsersIdMutePath, Option<types::MuteUserRequest>) -> UsersIdMuteResponse;
        list_user_owned_lists(Ctx, ListUserOwnedListsPath, ListUserOwnedListsQuery) -> ListUserOwnedListsResponse;
        list_user_pinned_lists(Ctx, ListUserPinnedListsPath, ListUserPinnedListsQuery) -> ListUserPinnedListsResponse;
        list_user_pin(Ctx, ListUserPinPath, types::ListPinnedRequest) -> ListUserPinResponse;
        list_user_unpin(Ctx, ListUserUnpinPath) -> ListUserUnpinResponse;
        users_id_retweets(Ctx, UsersIdRetweetsPath, Option<types::UsersRetweetsCreateRequest>)
            -> UsersIdRetweetsResponse;
        users_id_unretweets(Ctx, UsersIdUnretweetsPath) -> UsersIdUnretweetsResponse;
        users_id_timeline(Ctx, UsersIdTimelinePath, UsersIdTimelineQuery) -> UsersIdTimelineResponse;
        users_id_tweets(Ctx, UsersIdTweetsPath, UsersIdTweetsQuery) -> UsersIdTweetsResponse;
        users_id_unblock(Ctx, UsersIdUnblockPath) -> UsersIdUnblockResponse;
        users_id_unfollow(Ctx, UsersIdUnfollowPath) -> UsersIdUnfollowResponse;
        users_id_unmute(Ctx, UsersIdUnmutePath) -> UsersIdUnmuteResponse;
    }
}

fn me(name: &str) -> serde_json::Value {
    serde_json::json!({ "data": { "id": "1", "name": name, "username": "me" } })
}

const ME: &str = "/2/users/me";
const RULES: &str = "/2/tweets/search/stream/rules";
const OAUTH1: &str = r#"OAuth oauth_consumer_key="ck", oauth_token="t1", oauth_signature="s%3D""#;

#[tokio::test]
async fn oauth2_or_oauth1_credentials() {
    let app = router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "an oauth2 access token, with the requirement's scopes",
            get(ME).bearer("u1"),
            answers(200, me("oauth2:u1 [tweet.read users.read]")),
        ),
        (
            "OAuth 1.0a credentials, handed over as written",
            get(ME).header("authorization", OAUTH1),
            answers(200, me(&format!("oauth1:{}", &OAUTH1["OAuth ".len()..]))),
        ),
        (
            "the OAuth scheme name in lower case",
            get(ME).header("authorization", "oauth   oauth_token=\"t2\"  "),
            answers(200, me("oauth1:oauth_token=\"t2\"")),
        ),
        (
            "the default answer, as a problem document",
            get(ME).header("authorization", "OAuth oauth_token=\"suspended\""),
            answers_text(
                403,
                "application/problem+json",
                r#"{"detail":"oauth1:oauth_token=\"suspended\"","status":403,"title":"Forbidden","type":"about:blank"}"#,
            ),
        ),
        (
            "a token authenticate refuses",
            get(ME).bearer("revoked"),
            rejected(401, "authentication_error"),
        ),
        ("no credentials", get(ME), rejected(401, "authentication_error")),
        (
            "the OAuth scheme without credentials",
            get(ME).header("authorization", "OAuth"),
            rejected(401, "authentication_error"),
        ),
        (
            "basic credentials, which no requirement names",
            get(ME).basic("me", "secret"),
            rejected(401, "authentication_error"),
        ),
    ];
    check(&app, cases).await;
}

#[tokio::test]
async fn bearer_token_only() {
    let app = router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "an app's bearer token",
            get(RULES).bearer("a1"),
            answers(
                200,
                serde_json::json!({ "meta": { "result_count": 0, "sent": "app:a1" } }),
            ),
        ),
        (
            "the default answer, as a JSON error",
            get(RULES).bearer("limited"),
            answers(
                429,
                serde_json::json!({ "code": 88, "message": "app:limited is over its rate limit" }),
            ),
        ),
        (
            "OAuth 1.0a credentials, which this operation does not accept",
            get(RULES).header("authorization", OAUTH1),
            rejected(401, "authentication_error"),
        ),
        ("no credentials", get(RULES), rejected(401, "authentication_error")),
        (
            "an operation no case drives, authenticated first",
            get("/2/users/42").bearer("a1"),
            rejected(501, "not_implemented_error"),
        ),
    ];
    check(&app, cases).await;
}
